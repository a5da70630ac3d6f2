package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * Writes ForwardPassMetrics as Dynamo does, in the flat (G1, G2) or nested (G3) form: one writer
 * for the mock worker's stats replies and for the l2c event.
 */
public final class MetricsWriter {
  private MetricsWriter() {}

  /** What the flat form does with {@code data_parallel_rank}. */
  public enum Rank {
    /** never written (G1, before ranks existed) */
    OMIT,
    /** written when the worker has one */
    IF_PRESENT,
    /** always written, {@code null} without one (G2 from 0.3.0) */
    ALWAYS
  }

  /**
   * The seven fields, flat. With {@code f32} the two fractions are written as Dynamo's f32 (a
   * worker's own report); without, as received (relayed values).
   */
  public static void flat(JsonGenerator g, ForwardPassMetrics m, Rank rank, boolean f32)
      throws IOException {
    if (rank == Rank.ALWAYS || (rank == Rank.IF_PRESENT && m.hasRank())) {
      rank(g, m);
    }
    g.writeNumberField("request_active_slots", m.requestActiveSlots());
    g.writeNumberField("request_total_slots", m.requestTotalSlots());
    g.writeNumberField("kv_active_blocks", m.kvActiveBlocks());
    g.writeNumberField("kv_total_blocks", m.kvTotalBlocks());
    g.writeNumberField("num_requests_waiting", m.numRequestsWaiting());
    fraction(g, "gpu_cache_usage_perc", m.gpuCacheUsagePerc(), f32);
    fraction(g, "gpu_prefix_cache_hit_rate", m.gpuPrefixCacheHitRate(), f32);
  }

  /**
   * The fields of the nested form ({@code worker_stats}, {@code kv_stats}, {@code
   * spec_decode_stats: null}).
   */
  public static void nested(JsonGenerator g, ForwardPassMetrics m, boolean f32) throws IOException {
    g.writeObjectFieldStart("worker_stats");
    rank(g, m);
    g.writeNumberField("request_active_slots", m.requestActiveSlots());
    g.writeNumberField("request_total_slots", m.requestTotalSlots());
    g.writeNumberField("num_requests_waiting", m.numRequestsWaiting());
    g.writeEndObject();
    g.writeObjectFieldStart("kv_stats");
    g.writeNumberField("kv_active_blocks", m.kvActiveBlocks());
    g.writeNumberField("kv_total_blocks", m.kvTotalBlocks());
    fraction(g, "gpu_cache_usage_perc", m.gpuCacheUsagePerc(), f32);
    fraction(g, "gpu_prefix_cache_hit_rate", m.gpuPrefixCacheHitRate(), f32);
    g.writeEndObject();
    g.writeNullField("spec_decode_stats");
  }

  private static void rank(JsonGenerator g, ForwardPassMetrics m) throws IOException {
    if (m.hasRank()) {
      g.writeNumberField("data_parallel_rank", m.dpRank());
    } else {
      g.writeNullField("data_parallel_rank");
    }
  }

  private static void fraction(JsonGenerator g, String field, double v, boolean f32)
      throws IOException {
    if (f32) {
      g.writeNumberField(field, (float) v);
    } else {
      g.writeNumberField(field, v);
    }
  }
}
