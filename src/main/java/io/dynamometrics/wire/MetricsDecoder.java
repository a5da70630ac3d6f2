package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.io.IOException;

/**
 * Reads ForwardPassMetrics in the flat (G1, G2) or nested (G3) form, for replies the {@link
 * StatsReplyScanner} leaves to the JSON parser.
 *
 * <p>{@link #stream} reads them straight off the parser into eight slots, building no tree;
 * anything it does not take as plainly valid (a field missing, of another type, out of range) is
 * decoded again from its bytes by {@link #decode(JsonNode)}, which is the rule and words every
 * error comes from.
 */
final class MetricsDecoder {
  /** The error of an endpoint that sent no {@code data}. */
  static final String ABSENT = "data is absent";

  private MetricsDecoder() {}

  /**
   * Reads the {@code data} value {@code p} is on (its first token), taken from {@code payload}, to
   * its end: an object streamed, and through the tree when it is not plainly valid (the tree words
   * the error); anything else is never valid.
   *
   * @throws IllegalArgumentException naming the first field that is missing or wrong
   * @throws IOException for JSON the parser rejects
   */
  static ForwardPassMetrics stream(JsonParser p, byte[] payload) throws IOException {
    JsonToken token = p.currentToken();
    if (token != JsonToken.START_OBJECT) {
      p.skipChildren();
      throw new IllegalArgumentException("data is " + nodeType(token));
    }
    long from = p.currentTokenLocation().getByteOffset();
    MetricSlots top = new MetricSlots();
    MetricSlots worker = null;
    MetricSlots kv = null;
    boolean plain = true;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      boolean object = value == JsonToken.START_OBJECT;
      if (field.equals("worker_stats") && object) {
        worker = readObject(new MetricSlots(), p);
      } else if (field.equals("kv_stats") && object) {
        kv = readObject(new MetricSlots(), p);
      } else if (field.equals("worker_stats") || field.equals("kv_stats")) {
        plain = false;
        p.skipChildren();
      } else {
        read(top, field, value, p);
      }
    }
    ForwardPassMetrics m = null;
    if (plain) {
      m = worker != null && kv != null ? worker.metrics(kv, true) : top.metrics(top, false);
    }
    if (m != null) {
      return m;
    }
    long to = p.currentLocation().getByteOffset();
    if (from < 0 || to > payload.length || to <= from) {
      throw new IllegalStateException("the parser gave no byte offsets for data");
    }
    return decode(Json.mapper().readTree(payload, (int) from, (int) (to - from)));
  }

  /** What {@link #decode} says a value starting with {@code token} is (its tree's node type). */
  private static JsonNodeType nodeType(JsonToken token) {
    return switch (token) {
      case START_ARRAY -> JsonNodeType.ARRAY;
      case VALUE_STRING -> JsonNodeType.STRING;
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> JsonNodeType.NUMBER;
      case VALUE_TRUE, VALUE_FALSE -> JsonNodeType.BOOLEAN;
      case VALUE_NULL -> JsonNodeType.NULL;
      default -> throw new IllegalStateException("no JSON value starts with " + token);
    };
  }

  /** Reads the object {@code p} is on, to its end, into {@code s}. */
  private static MetricSlots readObject(MetricSlots s, JsonParser p) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      read(s, field, p.nextToken(), p);
    }
    return s;
  }

  /**
   * Takes {@code value} into {@code s} if {@code field} is one of the eight; skips it either way.
   */
  private static void read(MetricSlots s, String field, JsonToken value, JsonParser p)
      throws IOException {
    for (int i = 0; i < MetricSlots.U64.length; i++) {
      if (field.equals(MetricSlots.U64[i])) {
        s.u64[i] = unsigned(value, p, Long.MAX_VALUE);
        return;
      }
    }
    for (int i = 0; i < MetricSlots.F64.length; i++) {
      if (field.equals(MetricSlots.F64[i])) {
        s.f64[i] = number(value, p);
        return;
      }
    }
    if (field.equals(MetricSlots.RANK)) {
      boolean isNull = value == JsonToken.VALUE_NULL;
      s.rank(isNull, isNull ? -1 : unsigned(value, p, Integer.MAX_VALUE));
      return;
    }
    p.skipChildren();
  }

  /** A non-negative integer up to {@code max}, else -1. */
  private static long unsigned(JsonToken value, JsonParser p, long max) throws IOException {
    if (value != JsonToken.VALUE_NUMBER_INT) {
      p.skipChildren();
      return -1;
    }
    JsonParser.NumberType type = p.getNumberType();
    if (type != JsonParser.NumberType.INT && type != JsonParser.NumberType.LONG) {
      return -1;
    }
    long v = p.getLongValue();
    return v >= 0 && v <= max ? v : -1;
  }

  /** A finite number, else NaN. */
  private static double number(JsonToken value, JsonParser p) throws IOException {
    if (value == JsonToken.VALUE_NUMBER_INT) {
      JsonParser.NumberType type = p.getNumberType();
      return type == JsonParser.NumberType.INT || type == JsonParser.NumberType.LONG
          ? p.getDoubleValue()
          : Double.NaN;
    }
    if (value == JsonToken.VALUE_NUMBER_FLOAT) {
      double d = p.getDoubleValue();
      return Double.isFinite(d) ? d : Double.NaN;
    }
    p.skipChildren();
    return Double.NaN;
  }

  /**
   * @throws IllegalArgumentException naming the first field that is missing or wrong
   */
  static ForwardPassMetrics decode(JsonNode data) {
    if (data == null || !data.isObject()) {
      throw new IllegalArgumentException(data == null ? ABSENT : "data is " + data.getNodeType());
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
