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

  private final org.msgpack.core.buffer.ArrayBufferInput input =
      new org.msgpack.core.buffer.ArrayBufferInput(new byte[0]);
  private final MessageUnpacker in = MessagePack.newDefaultUnpacker(input);
  private int end;
  private int offset;

  /** One reader per thread, reset for each message: decoding a message allocates no reader. */
  private static final ThreadLocal<Msgpack> READERS = ThreadLocal.withInitial(Msgpack::new);

  private Msgpack() {}

  /**
   * This thread's reader over {@code length} bytes of {@code b} from {@code offset}; one message is
   * read at a time per thread (close it before reading the next).
   */
  static Msgpack over(byte[] b, int offset, int length) {
    Msgpack m = READERS.get();
    m.input.reset(b, offset, length);
    try {
      m.in.reset(m.input);
    } catch (IOException e) {
      throw new IllegalStateException("msgpack-core failed to reset an array reader", e);
    }
    m.offset = offset;
    m.end = offset + length;
    return m;
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

  /**
   * A map key: one of Dynamo's field names (the same String each time, so a switch on it allocates
   * nothing), or {@link #OTHER_KEY} for any other string of at most 64 bytes; fails for anything
   * else.
   */
  String key(String what) throws IOException {
    if (in.getNextFormat().getValueType() != ValueType.STRING) {
      throw new BadPayload(DecodeError.INVALID_MSGPACK, what + " has a key that is not a string");
    }
    int n = in.unpackRawStringHeader();
    if (n < 0 || n > 64 || n > remaining()) {
      throw new BadPayload(DecodeError.INVALID_MSGPACK, what + " has a key of bad length");
    }
    org.msgpack.core.buffer.MessageBuffer bytes = in.readPayloadAsReference(n);
    for (int k = 0; k < KEYS.length; k++) {
      byte[] known = KEY_BYTES[k];
      if (known.length == n && same(bytes, known)) {
        return KEYS[k];
      }
    }
    return OTHER_KEY;
  }

  /** What {@link #key} answers for a key Dynamo does not write. */
  static final String OTHER_KEY = "";

  private static final String[] KEYS = {
    "publisher_id",
    "sequence",
    "published_at",
    "topic",
    "payload",
    "worker_id",
    "dp_rank",
    "active_decode_blocks",
    "active_prefill_tokens",
    "kv_used_blocks",
    "isl_blocks",
    "overlap_blocks",
    "scheduled_requests",
    "queued_requests",
    "num_prefill_requests",
    "num_decode_requests"
  };

  private static final byte[][] KEY_BYTES = new byte[KEYS.length][];

  static {
    for (int k = 0; k < KEYS.length; k++) {
      KEY_BYTES[k] = KEYS[k].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
  }

  private static boolean same(org.msgpack.core.buffer.MessageBuffer b, byte[] known) {
    for (int i = 0; i < known.length; i++) {
      if (b.getByte(i) != known[i]) {
        return false;
      }
    }
    return true;
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

  /** Done with this message; the reader stays with its thread for the next one. */
  @Override
  public void close() {
    // an array reader holds nothing to release
  }
}
