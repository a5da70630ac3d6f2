package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Decodes {@code namespace.{ns}.kv-hit-rate} events; invalid ones are rejected, never guessed.
 *
 * <p>{@code overlap_blocks > isl_blocks} is accepted and counted as sent: the real KV routers of
 * Dynamo 0.1.1 to 0.2.1 compute {@code isl_blocks} as {@code min(tokens / block_size, 1)}, so every
 * request with more than one cached block reports more overlap than input (seen in the conformance
 * suite against their real routers). Refusing those events would lose most of such a fleet's hits;
 * Dynamo's own aggregator adds them up too.
 *
 * <p>Events arrive by the hundred thousand per second and Dynamo writes them one way only: {@code
 * {"worker_id":N,"isl_blocks":N,"overlap_blocks":N}}, compact, in that order (trailing whitespace
 * allowed). That exact shape (unsigned integers that fit a long) is read by a byte scanner;
 * anything else, valid or not, goes through the JSON parser, which gives the same result for every
 * input the scanner takes.
 */
public final class HitRateEventDecoder {
  private static final byte[] WORKER = "{\"worker_id\":".getBytes(StandardCharsets.US_ASCII);

  private static final byte[] ISL = ",\"isl_blocks\":".getBytes(StandardCharsets.US_ASCII);

  private static final byte[] OVERLAP = ",\"overlap_blocks\":".getBytes(StandardCharsets.US_ASCII);

  private HitRateEventDecoder() {}

  /**
   * Decodes one hit-rate event.
   *
   * @throws IllegalArgumentException with a printable reason for anything but a valid event
   */
  public static HitRateEvent decode(byte[] payload) {
    HitRateEvent event = canonical(payload);
    return event != null ? event : parse(payload);
  }

  /**
   * The event when {@code payload} has Dynamo's exact shape and valid values, else {@code null}.
   */
  static HitRateEvent canonical(byte[] b) {
    Scanner in = new Scanner(b);
    long workerId = in.field(WORKER);
    long isl = workerId < 0 ? -1 : in.field(ISL);
    long overlap = isl < 0 ? -1 : in.field(OVERLAP);
    if (overlap < 0 || !in.endOfObject()) {
      return null;
    }
    return new HitRateEvent(workerId, isl, overlap);
  }

  /**
   * Reads Dynamo's event shape left to right; each read answers -1 or false at the first surprise.
   */
  private static final class Scanner {
    private final byte[] b;
    private int i;

    Scanner(byte[] b) {
      this.b = b;
    }

    /**
     * {@code name} (the key with its quotes and colon) followed by an unsigned integer that fits a
     * long; the integer, or -1.
     */
    long field(byte[] name) {
      if (i + name.length > b.length) {
        return -1;
      }
      for (byte c : name) {
        if (b[i++] != c) {
          return -1;
        }
      }
      int from = i;
      long v = 0;
      while (i < b.length && b[i] >= '0' && b[i] <= '9') {
        int d = b[i++] - '0';
        if (v > (Long.MAX_VALUE - d) / 10) {
          return -1;
        }
        v = v * 10 + d;
      }
      if (i == from
          || (b[from] == '0' && i - from > 1)) { // no digits, or a leading zero JSON does not allow
        return -1;
      }
      return v;
    }

    /** A closing brace, then nothing but whitespace (a trailing newline, as in a file). */
    boolean endOfObject() {
      if (i >= b.length || b[i++] != '}') {
        return false;
      }
      for (; i < b.length; i++) {
        if (b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t') {
          return false;
        }
      }
      return true;
    }
  }

  /** Any JSON event, streamed. */
  static HitRateEvent parse(byte[] payload) {
    Long workerId = null;
    Long isl = null;
    Long overlap = null;
    try (JsonParser p = Json.parser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("event is not an object: " + Json.excerpt(payload));
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        switch (field) {
          case "worker_id" -> workerId = integer(p, value, field, payload, false);
          case "isl_blocks" -> isl = integer(p, value, field, payload, true);
          case "overlap_blocks" -> overlap = integer(p, value, field, payload, true);
          default -> p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw new IllegalArgumentException(
            "trailing data after the event: " + Json.excerpt(payload));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("unparseable event: " + Json.excerpt(payload));
    }
    if (workerId == null || isl == null || overlap == null) {
      throw new IllegalArgumentException(
          "event lacks worker_id, isl_blocks or overlap_blocks: " + Json.excerpt(payload));
    }
    return new HitRateEvent(workerId, isl, overlap);
  }

  private static long integer(
      JsonParser p, JsonToken value, String field, byte[] payload, boolean unsigned)
      throws IOException {
    if (value != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      p.skipChildren();
      throw new IllegalArgumentException(
          field + " must be a 64-bit integer: " + Json.excerpt(payload));
    }
    long v = p.getLongValue();
    if (unsigned && v < 0) {
      throw new IllegalArgumentException(field + " must not be negative: " + Json.excerpt(payload));
    }
    return v;
  }
}
