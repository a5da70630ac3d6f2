package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/** Decodes {@code namespace.{ns}.kv-hit-rate} events; invalid ones are rejected, never guessed. */
public final class HitRateEventDecoder {
  private HitRateEventDecoder() {}

  /**
   * @throws IllegalArgumentException with a printable reason for anything but a valid event
   */
  public static HitRateEvent decode(byte[] payload) {
    // Streamed: events arrive by the hundred thousand per second, and have three fields.
    Long workerId = null;
    Long isl = null;
    Long overlap = null;
    try (JsonParser p = Json.MAPPER.createParser(payload)) {
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
        throw new IllegalArgumentException("trailing data after the event: " + Json.excerpt(payload));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("unparseable event: " + Json.excerpt(payload));
    }
    if (workerId == null || isl == null || overlap == null) {
      throw new IllegalArgumentException("event lacks worker_id, isl_blocks or overlap_blocks: " + Json.excerpt(payload));
    }
    if (overlap > isl) {
      throw new IllegalArgumentException("overlap_blocks " + overlap + " > isl_blocks " + isl);
    }
    return new HitRateEvent(workerId, isl, overlap);
  }

  private static long integer(JsonParser p, JsonToken value, String field, byte[] payload, boolean unsigned) throws IOException {
    if (value != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      p.skipChildren();
      throw new IllegalArgumentException(field + " must be a 64-bit integer: " + Json.excerpt(payload));
    }
    long v = p.getLongValue();
    if (unsigned && v < 0) {
      throw new IllegalArgumentException(field + " must not be negative: " + Json.excerpt(payload));
    }
    return v;
  }
}
