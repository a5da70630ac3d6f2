package io.dynamometrics.wire;

import java.io.IOException;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

/**
 * A msgpack reader over one byte range, for Dynamo's maps read by name. Every length is checked
 * against the bytes that are left before anything is read or allocated, so a hostile length or
 * count costs no more than the bytes received; values are skipped without recursion.
 */
final class Msgpack implements AutoCloseable {
  static {
    useUniversalBuffer();
  }

  /**
   * msgpack-core reads and writes through {@code sun.misc.Unsafe} unless told otherwise, for which
   * JDK 23 and later print warnings on stderr, among the service's log lines. Its universal buffer
   * reads the same bytes without it; chosen once, before msgpack-core loads its buffer class,
   * unless the property is set already.
   */
  static void useUniversalBuffer() {
    if (System.getProperty("msgpack.universal-buffer") == null) {
      System.setProperty("msgpack.universal-buffer", "true");
    }
  }

  private final MessageUnpacker in;
  private final int end;
  private final int offset;

  Msgpack(byte[] b, int offset, int length) {
    this.in = MessagePack.newDefaultUnpacker(b, offset, length);
    this.offset = offset;
    this.end = offset + length;
  }

  /** Bytes not read yet. */
  int remaining() {
    return end - offset - (int) in.getTotalReadBytes();
  }

  /** Where the next value starts, in the array given to the constructor. */
  int position() {
    return offset + (int) in.getTotalReadBytes();
  }

  /** The number of entries of the map that comes next; fails for anything else. */
  int mapHeader(String what) throws IOException {
    if (!in.hasNext() || in.getNextFormat().getValueType() != ValueType.MAP) {
      throw new BadPayload(DecodeError.INVALID_MSGPACK, what + " is not a msgpack map");
    }
    int n = in.unpackMapHeader();
    if (n < 0 || n > remaining() / 2) {
      throw new BadPayload(
          DecodeError.INVALID_MSGPACK,
          what + " claims " + Integer.toUnsignedString(n) + " entries");
    }
    return n;
  }

  /** A map key: a string of at most 64 bytes (Dynamo's keys are short), else fails. */
  String key(String what) throws IOException {
    if (in.getNextFormat().getValueType() != ValueType.STRING) {
      throw new BadPayload(DecodeError.INVALID_MSGPACK, what + " has a key that is not a string");
    }
    int n = in.unpackRawStringHeader();
    if (n < 0 || n > 64 || n > remaining()) {
      throw new BadPayload(DecodeError.INVALID_MSGPACK, what + " has a key of bad length");
    }
    return new String(in.readPayload(n), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A string value of at most {@code max} bytes. */
  String string(String field, int max) throws IOException {
    if (in.getNextFormat().getValueType() != ValueType.STRING) {
      throw wrong(field, "a string");
    }
    int n = in.unpackRawStringHeader();
    if (n < 0 || n > max || n > remaining()) {
      throw new BadPayload(DecodeError.INVALID_MSGPACK, field + " has a bad length");
    }
    return new String(in.readPayload(n), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Whether the next value is nil (then it is consumed). */
  boolean nil() throws IOException {
    return in.tryUnpackNil();
  }

  /**
   * An unsigned 64-bit integer, as its bits in a long (values of 2^63 and more are negative here:
   * read them with {@link Long#toUnsignedString}).
   */
  long u64(String field) throws IOException {
    MessageFormat f = in.getNextFormat();
    if (f.getValueType() != ValueType.INTEGER) {
      throw wrong(field, "an unsigned integer");
    }
    if (f == MessageFormat.UINT64) {
      return in.unpackBigInteger().longValue(); // the same 64 bits
    }
    long v = in.unpackLong();
    if (v < 0) {
      throw new BadPayload(DecodeError.INVALID_MSGPACK, field + " is negative: " + v);
    }
    return v;
  }

  /** An unsigned integer that must fit a signed long (counts, blocks). */
  long count(String field) throws IOException {
    long v = u64(field);
    if (v < 0) {
      throw new BadPayload(
          DecodeError.INVALID_MSGPACK, field + " is out of range: " + Long.toUnsignedString(v));
    }
    return v;
  }

  /** An unsigned 32-bit integer (a rank). */
  int u32(String field) throws IOException {
    long v = u64(field);
    if (v < 0 || v > 0xFFFF_FFFFL) {
      throw new BadPayload(
          DecodeError.INVALID_MSGPACK, field + " is out of range: " + Long.toUnsignedString(v));
    }
    return (int) Math.min(v, Integer.MAX_VALUE);
  }

  /**
   * A binary value (a string is taken too): returns its offset in the array and moves past it;
   * {@link #lastLength} is its length.
   */
  int bin(String field) throws IOException {
    ValueType t = in.getNextFormat().getValueType();
    int n;
    if (t == ValueType.BINARY) {
      n = in.unpackBinaryHeader();
    } else if (t == ValueType.STRING) {
      n = in.unpackRawStringHeader();
    } else {
      throw wrong(field, "binary");
    }
    if (n < 0 || n > remaining()) {
      throw new BadPayload(
          DecodeError.INVALID_MSGPACK,
          field
              + " claims "
              + Integer.toUnsignedString(n)
              + " bytes, "
              + remaining()
              + " are left");
    }
    int at = position();
    in.readPayloadAsReference(n); // moves past it; nothing copied from an array
    lastLength = n;
    return at;
  }

  /** The length of the value {@link #bin} read last. */
  int lastLength;

  /** Skips one value of any kind, however deep, in time linear in its bytes. */
  void skip() throws IOException {
    in.skipValue();
  }

  boolean hasNext() throws IOException {
    return in.hasNext();
  }

  private static BadPayload wrong(String field, String expected) {
    return new BadPayload(DecodeError.INVALID_MSGPACK, field + " is not " + expected);
  }

  @Override
  public void close() {
    try {
      in.close();
    } catch (IOException e) {
      // an array: nothing to release
    }
  }
}
