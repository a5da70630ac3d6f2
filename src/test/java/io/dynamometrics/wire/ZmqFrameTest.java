package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The four frames of a ZMQ event-plane message, and every way they can be wrong. */
class ZmqFrameTest {
  private static byte[][] frames(byte version, int claimed, byte[] envelope) {
    byte[] body = new byte[5 + envelope.length];
    body[0] = version;
    body[1] = (byte) (claimed >>> 24);
    body[2] = (byte) (claimed >>> 16);
    body[3] = (byte) (claimed >>> 8);
    body[4] = (byte) claimed;
    System.arraycopy(envelope, 0, body, 5, envelope.length);
    byte[] publisher = {
      (byte) 0xa3, 0x24, (byte) 0xe5, (byte) 0xa5, 0x0e, (byte) 0xaa, (byte) 0xed, (byte) 0xa3
    };
    byte[] sequence = {0, 0, 0, 0, 0, 0, 0, 7};
    return new byte[][] {"kv_metrics".getBytes(StandardCharsets.UTF_8), publisher, sequence, body};
  }

  @Test
  void aWellFormedMessageGivesItsHeaderAndEnvelope() {
    byte[] env = PushEncoder.envelope(1, 7, 0, "kv_metrics", PushEncoder.activeLoad(9, 0, 3, 4));
    ZmqFrame z = ZmqFrame.decode(frames((byte) 1, env.length, env));
    assertThat(z.topic()).isEqualTo("kv_metrics");
    assertThat(Long.toUnsignedString(z.publisherId())).isEqualTo("11755773424422284707");
    assertThat(z.sequence()).isEqualTo(7);
    assertThat(((Pushed.Load) PushDecoder.decode(z.topic(), z.envelope())).workerId()).isEqualTo(9);
  }

  @Test
  void wrongVersionsLengthsAndFrameCountsAreRefusedWithAReason() {
    byte[] env = {(byte) 0x80};
    for (byte[][] bad :
        new byte[][][] {
          frames((byte) 2, 1, env),
          frames((byte) 1, 2, env),
          frames((byte) 1, Integer.MAX_VALUE, env),
          frames((byte) 1, -1, env),
          {new byte[0], new byte[8], new byte[8]},
          {new byte[0], new byte[7], new byte[8], new byte[6]},
          {new byte[0], new byte[8], new byte[8], new byte[3]},
        }) {
      assertThatThrownBy(() -> ZmqFrame.decode(bad))
          .isInstanceOfSatisfying(
              BadPayload.class, e -> assertThat(e.reason()).isEqualTo(DecodeError.INVALID_FRAME));
    }
  }

  @Test
  void randomFramesAreDecodedOrRefusedNeverAnotherException() {
    SplittableRandom rnd = new SplittableRandom(24);
    for (int i = 0; i < 100_000; i++) {
      byte[][] f = new byte[1 + rnd.nextInt(5)][];
      for (int k = 0; k < f.length; k++) {
        f[k] = new byte[rnd.nextInt(k == 1 || k == 2 ? 10 : 40)];
        for (int j = 0; j < f[k].length; j++) {
          f[k][j] = (byte) rnd.nextInt(256);
        }
      }
      try {
        ZmqFrame z = ZmqFrame.decode(f);
        assertThat(z.envelope()).hasSize(f[3].length - 5);
      } catch (BadPayload refused) {
        assertThat(refused.reason()).isEqualTo(DecodeError.INVALID_FRAME);
      }
    }
  }
}
