package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.math.BigInteger;

/**
 * Decodes what Dynamo pushes on its event plane, in every form it has used (dynamo-events.md):
 *
 * <ul>
 *   <li>JSON with {@code worker_id} and the stats {@code data} on {@code kv_metrics} (0.4.1 to
 *       0.7.x);
 *   <li>JSON ActiveLoad: {@code worker_id}, {@code dp_rank}, {@code active_decode_blocks}, {@code
 *       active_prefill_tokens} (0.8.x);
 *   <li>JSON hit-rate events (to 0.8.x);
 *   <li>the msgpack envelope (0.9.0 on), whose payload is ActiveLoad, a hit-rate event or
 *       forward-pass metrics by its topic.
 * </ul>
 *
 * A JSON message starts with an opening brace, an envelope with a msgpack map header; nothing else
 * is taken. Every failure is a {@link BadPayload} with a reason token, never another exception, and
 * costs no more than the bytes given.
 */
public final class PushDecoder {
  public static final String KV_METRICS = "kv_metrics";
  public static final String HIT_RATE = "kv-hit-rate";
  public static final String FORWARD_PASS = "forward-pass-metrics";

  private static final int MAX_TOPIC = 256;
  private static final int MAX_ENGINE_ID = 1024;
  private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private PushDecoder() {}

  /**
   * Decodes one message.
   *
   * @param topic the topic its NATS subject ends with ({@code kv_metrics}, {@code kv-hit-rate},
   *     ...), which says what a JSON message is; an envelope names its own
   * @throws BadPayload for anything that is not a valid message of its kind
   */
  public static Pushed decode(String topic, byte[] data) {
    int first = 0;
    while (first < data.length && isSpace(data[first])) {
      first++;
    }
    if (first == data.length) {
      throw new BadPayload(DecodeError.INVALID_LOAD, "empty message on " + topic);
    }
    if (data[first] == '{') {
      try {
        return json(topic, data);
      } catch (BadPayload e) {
        throw e;
      } catch (RuntimeException e) {
        throw new BadPayload(DecodeError.INVALID_JSON, "unreadable JSON: " + Json.excerpt(data));
      }
    }
    Pushed.Load canonical = EnvelopeScanner.load(data);
    return canonical != null ? canonical : general(data);
  }

  /** An envelope read by msgpack-core: the rule, and the words of every error. */
  static Pushed general(byte[] data) {
    try {
      return envelope(data);
    } catch (BadPayload e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new BadPayload(
          DecodeError.INVALID_MSGPACK, "unreadable msgpack (" + e.getClass().getSimpleName() + ")");
    }
  }

  private static Pushed json(String topic, byte[] data) {
    return switch (topic) {
      case KV_METRICS -> jsonLoad(data);
      case HIT_RATE -> jsonHitRate(data);
      default -> throw new BadPayload(DecodeError.UNKNOWN_TOPIC, "JSON on topic " + topic);
    };
  }

  private static Pushed.HitRate jsonHitRate(byte[] data) {
    try {
      return new Pushed.HitRate(null, HitRateEventDecoder.decode(data));
    } catch (IllegalArgumentException e) {
      throw new BadPayload(DecodeError.INVALID_EVENT, e.getMessage());
    }
  }

  /** The fields of ActiveLoad, in either encoding; {@code null} where absent or nil. */
  private static final class ActiveLoad {
    Long workerId;
    int rank = 0; // Dynamo: "None defaults to 0"
    Long decode;
    Long prefill;
    Long used;
    boolean usedKey; // 1.1 on: the field is there, even when nil

    Pushed.Load build(Envelope envelope) {
      if (workerId == null) {
        throw new BadPayload(DecodeError.INVALID_LOAD, "load has no worker_id");
      }
      return new Pushed.Load(envelope, workerId, activeLoad(rank, decode, used), prefill != null);
    }
  }

  /**
   * What an ActiveLoad says of a worker's rank ({@code null}: not sent): its KV use is {@code
   * kv_used_blocks} where sent (1.1 on), else {@code active_decode_blocks} (0.8 to 1.0); the
   * decoding share counts apart only beside {@code kv_used_blocks}.
   */
  static ForwardPassMetrics activeLoad(int rank, Long decode, Long used) {
    ForwardPassMetrics m = ForwardPassMetrics.none(rank);
    if (used != null) {
      m = m.with(ForwardPassMetrics.KV_ACTIVE, used);
      if (decode != null) {
        m = m.with(ForwardPassMetrics.DECODE_BLOCKS, decode);
      }
    } else if (decode != null) {
      m = m.with(ForwardPassMetrics.KV_ACTIVE, decode);
    }
    return m;
  }

  private static Pushed.Load jsonLoad(byte[] data) {
    ActiveLoad a = new ActiveLoad();
    ForwardPassMetrics stats = null;
    try (JsonParser p = Json.parser(data)) {
      p.nextToken();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken v = p.nextToken();
        switch (field) {
          case "worker_id" -> a.workerId = jsonU64(p, v, field);
          case "data" -> {
            try {
              stats = MetricsDecoder.stream(p, data);
            } catch (IllegalArgumentException e) {
              throw new BadPayload(DecodeError.NOT_METRICS, e.getMessage());
            }
          }
          case "dp_rank" -> a.rank = v == JsonToken.VALUE_NULL ? 0 : (int) jsonCount(p, v, field);
          case "active_decode_blocks" -> a.decode = jsonNullableCount(p, v, field);
          case "active_prefill_tokens" -> a.prefill = jsonNullableCount(p, v, field);
          case "kv_used_blocks" -> {
            a.usedKey = true;
            a.used = jsonNullableCount(p, v, field);
          }
          default -> p.skipChildren();
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new BadPayload(
            DecodeError.INVALID_JSON, "not one JSON object: " + Json.excerpt(data));
      }
    } catch (IOException e) {
      throw new BadPayload(DecodeError.INVALID_JSON, "unparseable load: " + Json.excerpt(data));
    }
    if (stats != null) {
      if (a.workerId == null) {
        throw new BadPayload(DecodeError.NO_WORKER_ID, "load has no worker_id");
      }
      return new Pushed.Load(null, a.workerId, stats, false);
    }
    if (a.decode == null && a.used == null && a.prefill == null && !a.usedKey) {
      throw new BadPayload(
          DecodeError.INVALID_LOAD,
          "load has neither data nor ActiveLoad fields: " + Json.excerpt(data));
    }
    return a.build(null);
  }

  private static long jsonU64(JsonParser p, JsonToken v, String field) throws IOException {
    if (v != JsonToken.VALUE_NUMBER_INT) {
      p.skipChildren();
      throw new BadPayload(DecodeError.INVALID_LOAD, field + " is not an integer");
    }
    if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      BigInteger b = p.getBigIntegerValue();
      if (b.signum() < 0 || b.compareTo(U64_MAX) > 0) {
        throw new BadPayload(
            DecodeError.INVALID_LOAD, field + " is not an unsigned 64-bit integer");
      }
      return b.longValue();
    }
    long x = p.getLongValue();
    if (x < 0) {
      throw new BadPayload(DecodeError.INVALID_LOAD, field + " is negative");
    }
    return x;
  }

  private static long jsonCount(JsonParser p, JsonToken v, String field) throws IOException {
    long x = jsonU64(p, v, field);
    if (x < 0 || (field.equals("dp_rank") && x > Integer.MAX_VALUE)) {
      throw new BadPayload(DecodeError.INVALID_LOAD, field + " is out of range");
    }
    return x;
  }

  private static Long jsonNullableCount(JsonParser p, JsonToken v, String field)
      throws IOException {
    return v == JsonToken.VALUE_NULL ? null : jsonCount(p, v, field);
  }

  /** The envelope, then its payload by its topic. */
  private static Pushed envelope(byte[] data) throws IOException {
    Long publisher = null;
    Long sequence = null;
    long publishedAt = 0;
    String topic = null;
    int payloadAt = -1;
    int payloadLength = 0;
    try (Msgpack m = Msgpack.over(data, 0, data.length)) {
      int n = m.mapHeader("envelope");
      for (int i = 0; i < n; i++) {
        switch (m.key("envelope")) {
          case "publisher_id" -> publisher = m.u64("publisher_id");
          case "sequence" -> sequence = m.u64("sequence");
          case "published_at" -> publishedAt = m.u64("published_at");
          case "topic" -> topic = m.string("topic", MAX_TOPIC);
          case "payload" -> {
            payloadAt = m.bin("payload");
            payloadLength = m.lastLength;
          }
          default -> m.skip();
        }
      }
      if (m.hasNext()) {
        throw new BadPayload(DecodeError.INVALID_ENVELOPE, "bytes after the envelope");
      }
    }
    if (publisher == null || sequence == null || topic == null || payloadAt < 0) {
      throw new BadPayload(
          DecodeError.INVALID_ENVELOPE,
          "envelope lacks "
              + (publisher == null
                  ? "publisher_id"
                  : sequence == null ? "sequence" : topic == null ? "topic" : "payload"));
    }
    Envelope env = new Envelope(publisher, sequence, publishedAt, topic);
    try (Msgpack m = Msgpack.over(data, payloadAt, payloadLength)) {
      Pushed out =
          switch (topic) {
            case KV_METRICS -> load(env, m);
            case HIT_RATE -> hitRate(env, m);
            case FORWARD_PASS -> forwardPass(env, m);
            default -> new Pushed.Ignored(env, topic);
          };
      if (!(out instanceof Pushed.Ignored) && m.hasNext()) {
        throw new BadPayload(DecodeError.INVALID_MSGPACK, "bytes after the " + topic + " payload");
      }
      return out;
    }
  }

  private static Pushed.Load load(Envelope env, Msgpack m) throws IOException {
    ActiveLoad a = new ActiveLoad();
    int n = m.mapHeader("load");
    for (int i = 0; i < n; i++) {
      String key = m.key("load");
      switch (key) {
        case "worker_id" -> a.workerId = m.u64(key);
        case "dp_rank" -> a.rank = m.nil() ? 0 : m.u32(key);
        case "active_decode_blocks" -> a.decode = m.nil() ? null : m.count(key);
        case "active_prefill_tokens" -> a.prefill = m.nil() ? null : m.count(key);
        case "kv_used_blocks" -> {
          a.usedKey = true;
          a.used = m.nil() ? null : m.count(key);
        }
        default -> m.skip();
      }
    }
    return a.build(env);
  }

  private static Pushed.HitRate hitRate(Envelope env, Msgpack m) throws IOException {
    Long worker = null;
    Long isl = null;
    Long overlap = null;
    int n = m.mapHeader("hit-rate event");
    for (int i = 0; i < n; i++) {
      String key = m.key("hit-rate event");
      switch (key) {
        case "worker_id" -> worker = m.u64(key);
        case "isl_blocks" -> isl = m.count(key);
        case "overlap_blocks" -> overlap = m.count(key);
        default -> m.skip();
      }
    }
    if (worker == null || isl == null || overlap == null) {
      throw new BadPayload(
          DecodeError.INVALID_EVENT,
          "hit-rate event lacks worker_id, isl_blocks or overlap_blocks");
    }
    return new Pushed.HitRate(env, new HitRateEvent(worker, isl, overlap));
  }

  private static Pushed.ForwardPass forwardPass(Envelope env, Msgpack m) throws IOException {
    String worker = null;
    int rank = 0;
    long[] scheduled = null;
    long[] queued = null;
    int n = m.mapHeader("forward-pass metrics");
    for (int i = 0; i < n; i++) {
      String key = m.key("forward-pass metrics");
      switch (key) {
        case "worker_id" -> worker = m.string(key, MAX_ENGINE_ID);
        case "dp_rank" -> rank = m.nil() ? 0 : m.u32(key);
        case "scheduled_requests" -> scheduled = requests(m, key);
        case "queued_requests" -> queued = requests(m, key);
        default -> m.skip();
      }
    }
    if (worker == null || scheduled == null || queued == null) {
      throw new BadPayload(
          DecodeError.INVALID_FORWARD_PASS,
          "forward-pass metrics lack worker_id, scheduled_requests or queued_requests");
    }
    return new Pushed.ForwardPass(
        env, worker, rank, sum(scheduled, "scheduled"), sum(queued, "queued"));
  }

  /** {@code num_prefill_requests} and {@code num_decode_requests} of one request group. */
  private static long[] requests(Msgpack m, String group) throws IOException {
    long[] out = {-1, -1};
    int n = m.mapHeader(group);
    for (int i = 0; i < n; i++) {
      String key = m.key(group);
      switch (key) {
        case "num_prefill_requests" -> out[0] = m.count(key);
        case "num_decode_requests" -> out[1] = m.count(key);
        default -> m.skip();
      }
    }
    return out;
  }

  private static long sum(long[] requests, String group) {
    if (requests[0] < 0 || requests[1] < 0) {
      throw new BadPayload(
          DecodeError.INVALID_FORWARD_PASS,
          group + "_requests lacks num_prefill_requests or num_decode_requests");
    }
    long s = requests[0] + requests[1];
    if (s < 0) {
      throw new BadPayload(DecodeError.INVALID_FORWARD_PASS, group + " requests overflow");
    }
    return s;
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }
}
