package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A million hostile and nearly-valid pushed payloads: random bytes, every captured message of the
 * real releases mutated (bits flipped, bytes cut, inserted, lengths rewritten), and payloads built
 * to cost (giant lengths and counts, deep nesting). Each one decodes or is refused with a {@link
 * BadPayload} and a reason, never another exception; whatever decodes agrees with msgpack-core's
 * generic reading of the same bytes on the worker it names, so a value never lands on the wrong
 * worker.
 */
class PushDecoderFuzzTest {
  private static final String[] TOPICS = {
    PushDecoder.KV_METRICS, PushDecoder.HIT_RATE, PushDecoder.FORWARD_PASS
  };

  @Test
  void aMillionHostileAndNearlyValidPayloadsDecodeOrAreRefusedWithAReason() throws IOException {
    List<PushDecoderTest.Captured> seeds = PushDecoderTest.captured();
    assertThat(seeds).isNotEmpty();
    SplittableRandom rnd = new SplittableRandom(20261205);
    int decoded = 0;
    int refused = 0;
    int scanned = 0;
    for (int i = 0; i < 1_000_000; i++) {
      String topic;
      byte[] b;
      if (i % 10 == 0) {
        topic = TOPICS[rnd.nextInt(TOPICS.length)];
        b = new byte[rnd.nextInt(64)];
        for (int j = 0; j < b.length; j++) {
          b[j] = (byte) rnd.nextInt(256);
        }
        if (b.length > 0 && rnd.nextBoolean()) {
          b[0] = (byte) (0x80 | rnd.nextInt(16)); // a fixmap, as an envelope starts
        }
      } else {
        PushDecoderTest.Captured seed = seeds.get(rnd.nextInt(seeds.size()));
        topic = seed.topic();
        b = mutate(seed.bytes(), rnd);
      }
      Pushed.Load fast = EnvelopeScanner.load(b);
      if (fast != null) { // the fast path takes only what the general reading reads the same
        scanned++;
        assertThat(PushDecoder.general(b)).isEqualTo(fast);
      }
      try {
        Pushed p = PushDecoder.decode(topic, b);
        decoded++;
        agrees(b, p);
      } catch (BadPayload e) {
        refused++;
        assertThat(e.reason()).isNotBlank();
        assertThat(e.getMessage()).isNotNull();
      }
    }
    assertThat(decoded).isPositive();
    assertThat(refused).isPositive();
    assertThat(scanned).as("messages the fast path took").isPositive();
  }

  /** One to three mutations of {@code seed}. */
  static byte[] mutate(byte[] seed, SplittableRandom rnd) {
    byte[] b = seed.clone();
    int n = 1 + rnd.nextInt(3);
    for (int k = 0; k < n && b.length > 0; k++) {
      int at = rnd.nextInt(b.length);
      switch (rnd.nextInt(5)) {
        case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
        case 1 -> b = java.util.Arrays.copyOf(b, at);
        case 2 -> {
          byte[] c = new byte[b.length + 1];
          System.arraycopy(b, 0, c, 0, at);
          c[at] = (byte) rnd.nextInt(256);
          System.arraycopy(b, at, c, at + 1, b.length - at);
          b = c;
        }
        case 3 -> b[at] = (byte) (new int[] {0xc6, 0xdb, 0xdf, 0xdd, 0xcf, 0xc0})[rnd.nextInt(6)];
        default -> {
          if (at + 4 < b.length) { // a 32-bit length or count rewritten
            b[at + 1] = (byte) 0xff;
            b[at + 2] = (byte) rnd.nextInt(256);
          }
        }
      }
    }
    return b;
  }

  /**
   * What an envelope that decoded names (publisher, worker) is what msgpack-core reads there too.
   */
  @SuppressWarnings("unchecked")
  private static void agrees(byte[] b, Pushed p) throws IOException {
    if (p.envelope() == null) {
      return; // JSON: the parser is the reader; the fixture test compares it with the tree
    }
    Map<String, Object> env = (Map<String, Object>) PushDecoderTest.generic(b, 0, b.length);
    assertThat(p.envelope().publisherId()).isEqualTo(PushDecoderTest.bits(env.get("publisher_id")));
    if (p instanceof Pushed.Load l) {
      byte[] payload = (byte[]) env.get("payload");
      Map<String, Object> m =
          (Map<String, Object>) PushDecoderTest.generic(payload, 0, payload.length);
      assertThat(l.workerId()).isEqualTo(((BigInteger) m.get("worker_id")).longValue());
    }
  }

  @Test
  void giantLengthsAndCountsCostNoMoreThanTheirBytes() {
    byte[][] hostile = {
      {(byte) 0xdf, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, // map32 of 4G entries
      {(byte) 0x85, (byte) 0xa7, 'p', 'a', 'y', 'l', 'o', 'a', 'd', (byte) 0xc6, 0x7f, -1, -1, -1},
      {(byte) 0x81, (byte) 0xa5, 't', 'o', 'p', 'i', 'c', (byte) 0xdb, 0x7f, -1, -1, -1, 'x'},
      {(byte) 0x81, (byte) 0xdb, 0x7f, -1, -1, -1, 'k'}, // a key of 2G bytes
    };
    for (byte[] h : hostile) {
      long before = allocated();
      try {
        PushDecoder.decode("kv_metrics", h);
      } catch (BadPayload expected) {
        // refused, as it must be
      }
      assertThat(allocated() - before).as("bytes allocated").isLessThan(1 << 20);
    }
  }

  @Test
  void deepNestingIsSkippedWithoutRecursion() throws IOException {
    // an envelope whose unknown field nests 1,000,000 arrays: read (and refused) without a deep
    // stack
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x81);
    out.write(new byte[] {(byte) 0xa1, 'x'});
    for (int i = 0; i < 1_000_000; i++) {
      out.write(0x91);
    }
    out.write(0xc0);
    byte[] deep = out.toByteArray();
    assertThatThrownBy(() -> PushDecoder.decode("kv_metrics", deep))
        .isInstanceOfSatisfying(
            BadPayload.class, e -> assertThat(e.reason()).isEqualTo(DecodeError.INVALID_ENVELOPE));
  }

  private static long allocated() {
    return ((com.sun.management.ThreadMXBean)
            java.lang.management.ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes();
  }
}
