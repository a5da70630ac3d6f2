package io.dynamometrics.wire;

import java.nio.charset.StandardCharsets;

/**
 * The load message as Dynamo's Rust writes it, read straight from the bytes: an envelope map of its
 * five keys in their order ({@code publisher_id}, {@code sequence}, {@code published_at}, {@code
 * topic} = {@code kv_metrics}, {@code payload}), whose payload is ActiveLoad with its keys in their
 * order. Load arrives by the hundred thousand per second; anything else, valid or not, goes to
 * {@link PushDecoder}'s general reading, which gives the same result for every message this takes
 * (fuzzed side by side).
 */
final class EnvelopeScanner {
  private static final byte[] PUBLISHER = key("publisher_id");
  private static final byte[] SEQUENCE = key("sequence");
  private static final byte[] PUBLISHED_AT = key("published_at");
  private static final byte[] TOPIC = key("topic");
  private static final byte[] KV_METRICS = key(PushDecoder.KV_METRICS); // a fixstr, as the value
  private static final byte[] PAYLOAD = key("payload");
  private static final byte[] WORKER_ID = key("worker_id");
  private static final byte[] DP_RANK = key("dp_rank");
  private static final byte[] DECODE = key("active_decode_blocks");
  private static final byte[] PREFILL = key("active_prefill_tokens");
  private static final byte[] USED = key("kv_used_blocks");

  /** A value that stands for "nil" among unsigned values (which the scanner reads as 0..2^63-1). */
  private static final long NIL = -2;

  private final byte[] b;
  private int i;
  private boolean ok = true;

  private EnvelopeScanner(byte[] b) {
    this.b = b;
  }

  /**
   * The load message in {@code b}, when it has Dynamo's exact shape and plain values, else null.
   */
  static Pushed.Load load(byte[] b) {
    EnvelopeScanner s = new EnvelopeScanner(b);
    if (!s.literal((byte) 0x85) || !s.literal(PUBLISHER)) {
      return null;
    }
    long publisher = s.u64();
    s.expect(SEQUENCE);
    long sequence = s.u64();
    s.expect(PUBLISHED_AT);
    long publishedAt = s.u64();
    s.expect(TOPIC);
    s.expect(KV_METRICS);
    s.expect(PAYLOAD);
    int length = s.binHeader();
    if (!s.ok || length != b.length - s.i) {
      return null;
    }
    int fields = b[s.i++] & 0xff;
    if (fields != 0x84 && fields != 0x85) {
      return null;
    }
    s.expect(WORKER_ID);
    long worker = s.u64();
    s.expect(DP_RANK);
    long rank = s.count(false);
    s.expect(DECODE);
    long decode = s.count(true);
    s.expect(PREFILL);
    long prefill = s.count(true);
    long used = NIL;
    if (fields == 0x85) {
      s.expect(USED);
      used = s.count(true);
    }
    if (!s.ok || s.i != b.length || rank > 0xFFFF_FFFFL) {
      return null;
    }
    int dpRank = (int) Math.min(rank, Integer.MAX_VALUE);
    return new Pushed.Load(
        new Envelope(publisher, sequence, publishedAt, PushDecoder.KV_METRICS),
        worker,
        PushDecoder.activeLoad(dpRank, decode == NIL ? null : decode, used == NIL ? null : used),
        prefill != NIL);
  }

  private static byte[] key(String name) {
    byte[] ascii = name.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[ascii.length + 1];
    out[0] = (byte) (0xa0 | ascii.length); // every name here is a fixstr (under 32 bytes)
    System.arraycopy(ascii, 0, out, 1, ascii.length);
    return out;
  }

  private boolean literal(byte c) {
    if (i < b.length && b[i] == c) {
      i++;
      return true;
    }
    return false;
  }

  private boolean literal(byte[] bytes) {
    if (i + bytes.length > b.length) {
      return false;
    }
    for (int k = 0; k < bytes.length; k++) {
      if (b[i + k] != bytes[k]) {
        return false;
      }
    }
    i += bytes.length;
    return true;
  }

  private void expect(byte[] bytes) {
    if (ok && !literal(bytes)) {
      ok = false;
    }
  }

  /** An unsigned integer of any width, as its 64 bits. */
  private long u64() {
    if (!ok || i >= b.length) {
      ok = false;
      return 0;
    }
    int f = b[i] & 0xff;
    if (f <= 0x7f) {
      i++;
      return f;
    }
    int width =
        switch (f) {
          case 0xcc -> 1;
          case 0xcd -> 2;
          case 0xce -> 4;
          case 0xcf -> 8;
          default -> -1;
        };
    if (width < 0 || i + 1 + width > b.length) {
      ok = false;
      return 0;
    }
    long v = 0;
    for (int k = 1; k <= width; k++) {
      v = (v << 8) | (b[i + k] & 0xff);
    }
    i += 1 + width;
    return v;
  }

  /**
   * A count: an unsigned integer that fits a long, or with {@code nilAllowed} nil ({@link #NIL}).
   */
  private long count(boolean nilAllowed) {
    if (ok && nilAllowed && i < b.length && b[i] == (byte) 0xc0) {
      i++;
      return NIL;
    }
    long v = u64();
    if (v < 0) {
      ok = false; // 2^63 and more: the general reading words the error
    }
    return v;
  }

  /** A bin8 or bin16 header (what an envelope's payload has): its length. */
  private int binHeader() {
    if (!ok || i + 1 >= b.length) {
      ok = false;
      return -1;
    }
    int f = b[i] & 0xff;
    if (f == 0xc4) {
      int n = b[i + 1] & 0xff;
      i += 2;
      return n;
    }
    if (f == 0xc5 && i + 2 < b.length) {
      int n = ((b[i + 1] & 0xff) << 8) | (b[i + 2] & 0xff);
      i += 3;
      return n;
    }
    ok = false;
    return -1;
  }
}
