package io.dynamometrics.wire;

import com.fasterxml.jackson.databind.JsonNode;

/** Reads ForwardPassMetrics in the flat (G1, G2) or nested (G3) form. */
final class MetricsDecoder {
  private MetricsDecoder() {}

  /**
   * @throws IllegalArgumentException naming the first field that is missing or wrong
   */
  static ForwardPassMetrics decode(JsonNode data) {
    if (data == null || !data.isObject()) {
      throw new IllegalArgumentException(
          "data is " + (data == null ? "absent" : data.getNodeType()));
    }
    JsonNode worker = data.get("worker_stats");
    JsonNode kv = data.get("kv_stats");
    if (worker != null && kv != null) {
      if (!worker.isObject() || !kv.isObject()) {
        throw new IllegalArgumentException("worker_stats and kv_stats must be objects");
      }
      return read(worker, kv, true);
    }
    return read(data, data, false);
  }

  private static ForwardPassMetrics read(JsonNode worker, JsonNode kv, boolean nested) {
    return new ForwardPassMetrics(
        u64(worker, "request_active_slots"),
        u64(worker, "request_total_slots"),
        u64(kv, "kv_active_blocks"),
        u64(kv, "kv_total_blocks"),
        u64(worker, "num_requests_waiting"),
        f32(kv, "gpu_cache_usage_perc"),
        f32(kv, "gpu_prefix_cache_hit_rate"),
        rank(worker.get("data_parallel_rank")),
        nested);
  }

  static long u64(JsonNode obj, String field) {
    JsonNode n = obj.get(field);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
      throw new IllegalArgumentException(
          field + " must be an unsigned integer, got " + describe(n));
    }
    return n.asLong();
  }

  private static double f32(JsonNode obj, String field) {
    JsonNode n = obj.get(field);
    if (n == null || !n.isNumber() || !Double.isFinite(n.asDouble())) {
      throw new IllegalArgumentException(field + " must be a number, got " + describe(n));
    }
    return n.asDouble();
  }

  private static int rank(JsonNode n) {
    if (n == null || n.isNull()) {
      return ForwardPassMetrics.NO_RANK;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
      throw new IllegalArgumentException(
          "data_parallel_rank must be an unsigned int, got " + describe(n));
    }
    return n.asInt();
  }

  private static String describe(JsonNode n) {
    if (n == null) {
      return "nothing";
    }
    String text = n.toString();
    return text.length() > 40 ? text.substring(0, 40) + "..." : text;
  }
}
