package io.dynamometrics.wire;

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
  public static void flat(JsonWriter g, ForwardPassMetrics m, Rank rank, boolean f32) {
    if (rank == Rank.ALWAYS || (rank == Rank.IF_PRESENT && m.hasRank())) {
      rank(g, m);
    }
    g.field("request_active_slots", m.requestActiveSlots());
    g.field("request_total_slots", m.requestTotalSlots());
    g.field("kv_active_blocks", m.kvActiveBlocks());
    g.field("kv_total_blocks", m.kvTotalBlocks());
    g.field("num_requests_waiting", m.numRequestsWaiting());
    fraction(g, "gpu_cache_usage_perc", m.gpuCacheUsagePerc(), f32);
    fraction(g, "gpu_prefix_cache_hit_rate", m.gpuPrefixCacheHitRate(), f32);
  }

  /**
   * The fields of the nested form ({@code worker_stats}, {@code kv_stats}, {@code
   * spec_decode_stats: null}).
   */
  public static void nested(JsonWriter g, ForwardPassMetrics m, boolean f32) {
    g.startObject("worker_stats");
    rank(g, m);
    g.field("request_active_slots", m.requestActiveSlots());
    g.field("request_total_slots", m.requestTotalSlots());
    g.field("num_requests_waiting", m.numRequestsWaiting());
    g.endObject();
    g.startObject("kv_stats");
    g.field("kv_active_blocks", m.kvActiveBlocks());
    g.field("kv_total_blocks", m.kvTotalBlocks());
    fraction(g, "gpu_cache_usage_perc", m.gpuCacheUsagePerc(), f32);
    fraction(g, "gpu_prefix_cache_hit_rate", m.gpuPrefixCacheHitRate(), f32);
    g.endObject();
    g.nullField("spec_decode_stats");
  }

  private static void rank(JsonWriter g, ForwardPassMetrics m) {
    if (m.hasRank()) {
      g.field("data_parallel_rank", m.dpRank());
    } else {
      g.nullField("data_parallel_rank");
    }
  }

  private static void fraction(JsonWriter g, String field, double v, boolean f32) {
    if (f32) {
      g.field(field, (float) v);
    } else {
      g.field(field, v);
    }
  }
}
