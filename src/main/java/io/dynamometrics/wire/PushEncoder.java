package io.dynamometrics.wire;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Writes what Dynamo workers push, in each release's form (the inverse of {@link PushDecoder}), for
 * the mock worker, the demo and benchmarks: JSON with the stats {@code data} (0.4.1 to 0.7.x), JSON
 * ActiveLoad (0.8.x), and the msgpack envelope with an ActiveLoad or hit-rate payload (0.9.0 on).
 */
public final class PushEncoder {
  static {
    Msgpack.useUniversalBuffer();
  }

  private PushEncoder() {}

  /** {@code {"worker_id":N,"data":{...}}} with the nested stats of 0.3.2 and later. */
  public static byte[] jsonWithData(long workerId, ForwardPassMetrics m) {
    JsonWriter data = new JsonWriter(384).startObject();
    MetricsWriter.nested(data, m, true);
    return ("{\"worker_id\":"
            + Long.toUnsignedString(workerId)
            + ",\"data\":"
            + data.endObject()
            + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** 0.8.x ActiveLoad: the worker's KV use as {@code active_decode_blocks}. */
  public static byte[] activeLoadJson(long workerId, int dpRank, long kvActiveBlocks) {
    return ("{\"worker_id\":"
            + Long.toUnsignedString(workerId)
            + ",\"dp_rank\":"
            + dpRank
            + ",\"active_decode_blocks\":"
            + kvActiveBlocks
            + ",\"active_prefill_tokens\":null}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * ActiveLoad as msgpack (0.9.0 on); {@code kvUsedBlocks} below 0 leaves out the field of 1.1 on.
   */
  public static byte[] activeLoad(long workerId, int dpRank, long decodeBlocks, long kvUsedBlocks) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(kvUsedBlocks < 0 ? 4 : 5);
      u64(p.packString("worker_id"), workerId);
      p.packString("dp_rank").packInt(dpRank);
      p.packString("active_decode_blocks").packLong(decodeBlocks);
      p.packString("active_prefill_tokens").packNil();
      if (kvUsedBlocks >= 0) {
        p.packString("kv_used_blocks").packLong(kvUsedBlocks);
      }
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A router's hit-rate event as msgpack (0.9.x). */
  public static byte[] hitRate(long workerId, int dpRank, long islBlocks, long overlapBlocks) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(4);
      u64(p.packString("worker_id"), workerId);
      p.packString("dp_rank").packInt(dpRank);
      p.packString("isl_blocks").packLong(islBlocks);
      p.packString("overlap_blocks").packLong(overlapBlocks);
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The envelope around {@code payload}. */
  public static byte[] envelope(
      long publisherId, long sequence, long publishedAtMillis, String topic, byte[] payload) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(5);
      u64(p.packString("publisher_id"), publisherId);
      u64(p.packString("sequence"), sequence);
      u64(p.packString("published_at"), publishedAtMillis);
      p.packString("topic").packString(topic);
      p.packString("payload").packBinaryHeader(payload.length);
      p.writePayload(payload);
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An unsigned 64-bit id (its bits in a long), as Dynamo's Rust writes it. */
  private static void u64(org.msgpack.core.MessagePacker p, long v) throws IOException {
    if (v >= 0) {
      p.packLong(v);
    } else {
      p.packBigInteger(new BigInteger(Long.toUnsignedString(v)));
    }
  }
}
