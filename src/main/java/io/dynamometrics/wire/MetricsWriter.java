package io.dynamometrics.wire;

/**
 * Writes ForwardPassMetrics as Dynamo does, in the flat (G1, G2) or nested (G3) form: one writer
 * for the mock worker's stats replies and for the l2c event.
 */
public final class MetricsWriter {
  private MetricsWriter() {}

  private static final JsonWriter.Name DATA_PARALLEL_RANK =
      JsonWriter.Name.of("data_parallel_rank");
  private static final JsonWriter.Name GPU_CACHE_USAGE_PERC =
      JsonWriter.Name.of("gpu_cache_usage_perc");
  private static final JsonWriter.Name GPU_PREFIX_CACHE_HIT_RATE =
      JsonWriter.Name.of("gpu_prefix_cache_hit_rate");
  private static final JsonWriter.Name KV_ACTIVE_BLOCKS = JsonWriter.Name.of("kv_active_blocks");
  private static final JsonWriter.Name KV_STATS = JsonWriter.Name.of("kv_stats");
  private static final JsonWriter.Name KV_TOTAL_BLOCKS = JsonWriter.Name.of("kv_total_blocks");
  private static final JsonWriter.Name NUM_REQUESTS_WAITING =
      JsonWriter.Name.of("num_requests_waiting");
  private static final JsonWriter.Name REQUEST_ACTIVE_SLOTS =
      JsonWriter.Name.of("request_active_slots");
  private static final JsonWriter.Name REQUEST_TOTAL_SLOTS =
      JsonWriter.Name.of("request_total_slots");
  private static final JsonWriter.Name SPEC_DECODE_STATS = JsonWriter.Name.of("spec_decode_stats");
  private static final JsonWriter.Name WORKER_STATS = JsonWriter.Name.of("worker_stats");

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
    g.field(REQUEST_ACTIVE_SLOTS, m.requestActiveSlots());
    g.field(REQUEST_TOTAL_SLOTS, m.requestTotalSlots());
    g.field(KV_ACTIVE_BLOCKS, m.kvActiveBlocks());
    g.field(KV_TOTAL_BLOCKS, m.kvTotalBlocks());
    g.field(NUM_REQUESTS_WAITING, m.numRequestsWaiting());
    fraction(g, GPU_CACHE_USAGE_PERC, m.gpuCacheUsagePerc(), f32);
    fraction(g, GPU_PREFIX_CACHE_HIT_RATE, m.gpuPrefixCacheHitRate(), f32);
  }

  /**
   * The fields of the nested form ({@code worker_stats}, {@code kv_stats}, {@code
   * spec_decode_stats: null}).
   */
  public static void nested(JsonWriter g, ForwardPassMetrics m, boolean f32) {
    g.startObject(WORKER_STATS);
    rank(g, m);
    g.field(REQUEST_ACTIVE_SLOTS, m.requestActiveSlots());
    g.field(REQUEST_TOTAL_SLOTS, m.requestTotalSlots());
    g.field(NUM_REQUESTS_WAITING, m.numRequestsWaiting());
    g.endObject();
    g.startObject(KV_STATS);
    g.field(KV_ACTIVE_BLOCKS, m.kvActiveBlocks());
    g.field(KV_TOTAL_BLOCKS, m.kvTotalBlocks());
    fraction(g, GPU_CACHE_USAGE_PERC, m.gpuCacheUsagePerc(), f32);
    fraction(g, GPU_PREFIX_CACHE_HIT_RATE, m.gpuPrefixCacheHitRate(), f32);
    g.endObject();
    g.nullField(SPEC_DECODE_STATS);
  }

  private static void rank(JsonWriter g, ForwardPassMetrics m) {
    if (m.hasRank()) {
      g.field(DATA_PARALLEL_RANK, m.dpRank());
    } else {
      g.nullField(DATA_PARALLEL_RANK);
    }
  }

  private static void fraction(JsonWriter g, JsonWriter.Name field, double v, boolean f32) {
    if (f32) {
      g.field(field, (float) v);
    } else {
      g.field(field, v);
    }
  }
}
