package io.dynamometrics.wire;

/**
 * The eight ForwardPassMetrics fields as read from one JSON object, each taken only when plainly
 * valid: the one rule of what the parser's stream ({@link MetricsDecoder#stream}) and the byte
 * scanner ({@link StatsReplyScanner}) take without asking the tree decoder.
 */
final class MetricSlots {
  /** The unsigned integers, in slot order. */
  static final String[] U64 = {
    "request_active_slots",
    "request_total_slots",
    "kv_active_blocks",
    "kv_total_blocks",
    "num_requests_waiting"
  };

  /** The fractions, in slot order. */
  static final String[] F64 = {"gpu_cache_usage_perc", "gpu_prefix_cache_hit_rate"};

  static final String RANK = "data_parallel_rank";

  /** -1 until a valid value is read. */
  final long[] u64 = {-1, -1, -1, -1, -1};

  /** NaN until a valid value is read. */
  final double[] f64 = {Double.NaN, Double.NaN};

  int rank = ForwardPassMetrics.NO_RANK;
  boolean rankBad;

  /**
   * Takes {@code data_parallel_rank}: {@code null} (no rank), or {@code r}, a non-negative int read
   * as such or -1 for anything else, which makes the metrics invalid.
   */
  void rank(boolean isNull, long r) {
    rankBad = !isNull && r < 0;
    rank = isNull || rankBad ? ForwardPassMetrics.NO_RANK : (int) r;
  }

  /**
   * The metrics of this object's worker fields and {@code kv}'s KV fields (the same object in the
   * flat form) when every one needed was taken, else {@code null}.
   */
  ForwardPassMetrics metrics(MetricSlots kv, boolean nested) {
    if (u64[0] < 0
        || u64[1] < 0
        || kv.u64[2] < 0
        || kv.u64[3] < 0
        || u64[4] < 0
        || Double.isNaN(kv.f64[0])
        || Double.isNaN(kv.f64[1])
        || rankBad) {
      return null;
    }
    return new ForwardPassMetrics(
        u64[0], u64[1], kv.u64[2], kv.u64[3], u64[4], kv.f64[0], kv.f64[1], rank, nested);
  }
}
