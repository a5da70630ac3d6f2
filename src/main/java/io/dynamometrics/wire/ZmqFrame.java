package io.dynamometrics.wire;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One message of Dynamo's ZMQ event plane (1.3 on), as its four frames: the topic, the publisher id
 * and the sequence (each a big-endian u64), then a version byte {@code 0x01}, a big-endian u32
 * length and the msgpack envelope of that length (dynamo-events.md, section 2). The envelope goes
 * through {@link PushDecoder} like one from NATS.
 *
 * @param envelope the envelope's bytes (its own copy)
 */
public record ZmqFrame(String topic, long publisherId, long sequence, byte[] envelope) {
  /** The only frame version Dynamo writes. */
  public static final byte VERSION = 1;

  /**
   * Reads the four frames of one message.
   *
   * @throws BadPayload naming what is wrong: the number of frames, a frame's size, the version
   *     byte, or a length that disagrees with the frame
   */
  public static ZmqFrame decode(byte[][] frames) {
    if (frames.length != 4) {
      throw new BadPayload(
          DecodeError.INVALID_FRAME, "a message of " + frames.length + " frames, expected 4");
    }
    if (frames[1].length != 8 || frames[2].length != 8) {
      throw new BadPayload(
          DecodeError.INVALID_FRAME,
          "publisher id and sequence frames of "
              + frames[1].length
              + " and "
              + frames[2].length
              + " bytes, expected 8 each");
    }
    byte[] body = frames[3];
    if (body.length < 5) {
      throw new BadPayload(
          DecodeError.INVALID_FRAME, "an envelope frame of " + body.length + " bytes");
    }
    if (body[0] != VERSION) {
      throw new BadPayload(
          DecodeError.INVALID_FRAME, "frame version " + (body[0] & 0xff) + ", expected 1");
    }
    long length = u32(body, 1);
    if (length != body.length - 5) {
      throw new BadPayload(
          DecodeError.INVALID_FRAME,
          "the frame says its envelope has " + length + " bytes, it has " + (body.length - 5));
    }
    return new ZmqFrame(
        new String(frames[0], StandardCharsets.UTF_8),
        u64(frames[1]),
        u64(frames[2]),
        Arrays.copyOfRange(body, 5, body.length));
  }

  /** The four frames of this message, as a Dynamo publisher sends them. */
  public byte[][] frames() {
    byte[] body = new byte[5 + envelope.length];
    body[0] = VERSION;
    body[1] = (byte) (envelope.length >>> 24);
    body[2] = (byte) (envelope.length >>> 16);
    body[3] = (byte) (envelope.length >>> 8);
    body[4] = (byte) envelope.length;
    System.arraycopy(envelope, 0, body, 5, envelope.length);
    return new byte[][] {
      topic.getBytes(StandardCharsets.UTF_8), be(publisherId), be(sequence), body
    };
  }

  private static byte[] be(long v) {
    byte[] b = new byte[8];
    for (int i = 7; i >= 0; i--) {
      b[i] = (byte) v;
      v >>>= 8;
    }
    return b;
  }

  private static long u64(byte[] b) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[i] & 0xff);
    }
    return v;
  }

  private static long u32(byte[] b, int at) {
    return ((long) (b[at] & 0xff) << 24)
        | ((b[at + 1] & 0xff) << 16)
        | ((b[at + 2] & 0xff) << 8)
        | (b[at + 3] & 0xff);
  }
}
