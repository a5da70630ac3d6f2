package io.dynamometrics.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** Decodes {@code namespace.{ns}.kv-hit-rate} events; invalid ones are rejected, never guessed. */
public final class HitRateEventDecoder {
  private HitRateEventDecoder() {}

  /** @throws IllegalArgumentException with a printable reason for anything but a valid event */
  public static HitRateEvent decode(byte[] payload) {
    JsonNode root;
    try {
      root = Json.parse(payload);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("unparseable event: " + Json.excerpt(payload));
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException("event is not an object: " + Json.excerpt(payload));
    }
    JsonNode id = root.get("worker_id");
    if (id == null || !id.isIntegralNumber() || !id.canConvertToLong()) {
      throw new IllegalArgumentException("worker_id must be a 64-bit integer: " + Json.excerpt(payload));
    }
    long isl = MetricsDecoder.u64(root, "isl_blocks");
    long overlap = MetricsDecoder.u64(root, "overlap_blocks");
    if (overlap > isl) {
      throw new IllegalArgumentException("overlap_blocks " + overlap + " > isl_blocks " + isl);
    }
    return new HitRateEvent(id.asLong(), isl, overlap);
  }
}
