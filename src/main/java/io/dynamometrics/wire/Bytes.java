package io.dynamometrics.wire;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte array that text is written into: not synchronized (a {@code
 * ByteArrayOutputStream} takes a lock on every write, and a render of 10,000 workers makes hundreds
 * of thousands), ASCII written without a charset, whole numbers digit by digit.
 */
public final class Bytes {
  private byte[] buf;
  private int count;

  public Bytes(int size) {
    buf = new byte[Math.max(size, 16)];
  }

  public void write(byte[] b) {
    write(b, 0, b.length);
  }

  /** {@code length} bytes of {@code b} from {@code from}. */
  public void write(byte[] b, int from, int length) {
    ensure(length);
    System.arraycopy(b, from, buf, count, length);
    count += length;
  }

  public void write(char c) {
    ensure(1);
    buf[count++] = (byte) c;
  }

  /** {@code s}, which must be ASCII, one byte per character. */
  public void ascii(String s) {
    ascii(s, 0, s.length());
  }

  /** {@code s}'s characters from {@code from} to {@code to}, which must be ASCII. */
  public void ascii(String s, int from, int to) {
    ensure(to - from);
    for (int i = from; i < to; i++) {
      buf[count++] = (byte) s.charAt(i);
    }
  }

  /** {@code v} in decimal, as {@link Long#toString(long)} writes it. */
  public void digits(long v) {
    if (v == Long.MIN_VALUE) {
      ascii(Long.toString(v)); // its magnitude is no long
      return;
    }
    ensure(20);
    if (v < 0) {
      buf[count++] = '-';
      v = -v;
    }
    int start = count;
    do {
      buf[count++] = (byte) ('0' + v % 10);
      v /= 10;
    } while (v != 0);
    for (int i = start, j = count - 1; i < j; i++, j--) {
      byte t = buf[i];
      buf[i] = buf[j];
      buf[j] = t;
    }
  }

  public int size() {
    return count;
  }

  public void reset() {
    count = 0;
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(buf, count);
  }

  /** The bytes as UTF-8 text. */
  @Override
  public String toString() {
    return new String(buf, 0, count, StandardCharsets.UTF_8);
  }

  private void ensure(int more) {
    if (count + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
    }
  }
}
