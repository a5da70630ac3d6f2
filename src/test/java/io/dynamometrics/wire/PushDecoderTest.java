package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

/**
 * Every pushed message captured from the real releases (fixtures/dynamo-events: NATS messages and
 * ZMQ frames, 0.4.1 to 1.6.1) decodes to what an independent reading of the same bytes says:
 * Jackson's tree for JSON, msgpack-core's generic values for envelopes.
 */
class PushDecoderTest {
  /** Captures of the real releases (see the README there). */
  static final Path EVENTS = Path.of("src/test/resources/fixtures/dynamo-events");

  /** A captured message: its topic and bytes, and where it came from. */
  record Captured(String source, String topic, byte[] bytes) {}

  static List<Captured> captured() throws IOException {
    List<Captured> out = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.walk(EVENTS)) {
      files = s.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
    }
    for (Path f : files) {
      for (String line : Files.readAllLines(f)) {
        JsonNode n = Json.mapper().readTree(line);
        if (n.has("frames_hex")) { // ZMQ: [topic, publisher, sequence, 0x01 | u32 length | env]
          byte[][] frames = new byte[n.path("frames_hex").size()][];
          for (int i = 0; i < frames.length; i++) {
            frames[i] = HexFormat.of().parseHex(n.path("frames_hex").get(i).asText());
          }
          ZmqFrame z = ZmqFrame.decode(frames);
          assertThat(z.publisherId())
              .isEqualTo(n.path("publisher_id_be").bigIntegerValue().longValue());
          assertThat(z.sequence()).isEqualTo(n.path("sequence_be").asLong());
          assertThat(z.topic()).isEqualTo(n.path("topic").asText());
          out.add(new Captured(f + " (zmq)", z.topic(), z.envelope()));
          continue;
        }
        String subject = n.path("subject").asText();
        String topic = subject.substring(subject.lastIndexOf('.') + 1);
        if (!List.of(PushDecoder.KV_METRICS, PushDecoder.HIT_RATE, PushDecoder.FORWARD_PASS)
            .contains(topic)) {
          continue;
        }
        String b64 = n.has("b64") ? n.path("b64").asText() : n.path("payload_b64").asText();
        out.add(new Captured(f + " " + subject, topic, Base64.getDecoder().decode(b64)));
      }
    }
    return out;
  }

  /** msgpack bytes as plain Java: maps, BigIntegers, strings, byte arrays, doubles, null. */
  static Object generic(byte[] b, int off, int len) throws IOException {
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(b, off, len)) {
      Object v = plain(u.unpackValue());
      if (u.hasNext()) {
        throw new IOException("trailing bytes");
      }
      return v;
    }
  }

  private static Object plain(Value v) {
    return switch (v.getValueType()) {
      case MAP -> {
        Map<String, Object> m = new HashMap<>();
        v.asMapValue().map().forEach((k, x) -> m.put(String.valueOf(plain(k)), plain(x)));
        yield m;
      }
      case INTEGER -> v.asIntegerValue().asBigInteger();
      // as the decoder reads strings: invalid UTF-8 replaced, never an error
      case STRING -> new String(v.asStringValue().asByteArray(), StandardCharsets.UTF_8);
      case BINARY -> v.asBinaryValue().asByteArray();
      case FLOAT -> v.asFloatValue().toDouble();
      case NIL -> null;
      default -> v.toString();
    };
  }

  static long bits(Object o) {
    return ((BigInteger) o).longValue();
  }

  @Test
  void everyCapturedMessageDecodesAsAnIndependentReadingSays() throws IOException {
    Map<String, Integer> kinds = new HashMap<>();
    for (Captured c : captured()) {
      Pushed p = PushDecoder.decode(c.topic(), c.bytes());
      String kind = check(c, p);
      kinds.merge(kind, 1, Integer::sum);
    }
    // every form of every release in the captures was met
    assertThat(kinds)
        .containsKeys(
            "json-data",
            "json-active-load",
            "msgpack-load",
            "msgpack-router-estimate",
            "msgpack-hit-rate",
            "forward-pass");
  }

  @SuppressWarnings("unchecked")
  private static String check(Captured c, Pushed p) throws IOException {
    if (c.bytes()[0] == '{') {
      JsonNode n = Json.mapper().readTree(c.bytes());
      Pushed.Load l = (Pushed.Load) p;
      assertThat(l.envelope()).isNull();
      assertThat(Long.toUnsignedString(l.workerId()))
          .as(c.source())
          .isEqualTo(n.path("worker_id").bigIntegerValue().toString());
      if (n.has("data")) {
        JsonNode kv = n.path("data").path("kv_stats");
        assertThat(l.metrics().complete()).isTrue();
        assertThat(l.metrics().kvActiveBlocks()).isEqualTo(kv.path("kv_active_blocks").asLong());
        assertThat(l.metrics().kvTotalBlocks()).isEqualTo(kv.path("kv_total_blocks").asLong());
        return "json-data";
      }
      assertThat(l.metrics().value(ForwardPassMetrics.KV_ACTIVE))
          .isEqualTo(n.path("active_decode_blocks").asDouble());
      assertThat(l.metrics().dpRank()).isEqualTo(n.path("dp_rank").asInt());
      assertThat(l.metrics().has(ForwardPassMetrics.KV_TOTAL)).isFalse();
      return "json-active-load";
    }
    Map<String, Object> env = (Map<String, Object>) generic(c.bytes(), 0, c.bytes().length);
    assertThat(p.envelope().publisherId()).as(c.source()).isEqualTo(bits(env.get("publisher_id")));
    assertThat(p.envelope().sequence()).isEqualTo(bits(env.get("sequence")));
    assertThat(p.envelope().topic()).isEqualTo(env.get("topic"));
    if (p instanceof Pushed.Ignored i) {
      return "ignored-" + i.topic(); // KV events: their payload is an array this service skips
    }
    byte[] payload = (byte[]) env.get("payload");
    Map<String, Object> m = (Map<String, Object>) generic(payload, 0, payload.length);
    switch (p) {
      case Pushed.Load l -> {
        assertThat(l.workerId()).as(c.source()).isEqualTo(bits(m.get("worker_id")));
        assertThat(l.metrics().dpRank()).isEqualTo(((BigInteger) m.get("dp_rank")).intValue());
        Object used = m.get("kv_used_blocks");
        Object decode = m.get("active_decode_blocks");
        assertThat(l.metrics().value(ForwardPassMetrics.KV_ACTIVE))
            .isEqualTo(((BigInteger) (used != null ? used : decode)).doubleValue());
        assertThat(Double.valueOf(l.metrics().value(ForwardPassMetrics.DECODE_BLOCKS)))
            .isEqualTo(
                Double.valueOf(used != null ? ((BigInteger) decode).doubleValue() : Double.NaN));
        assertThat(l.fromRouter()).isEqualTo(m.get("active_prefill_tokens") != null);
        return l.fromRouter() ? "msgpack-router-estimate" : "msgpack-load";
      }
      case Pushed.HitRate h -> {
        assertThat(h.event().workerId()).isEqualTo(bits(m.get("worker_id")));
        assertThat(h.event().islBlocks()).isEqualTo(bits(m.get("isl_blocks")));
        assertThat(h.event().overlapBlocks()).isEqualTo(bits(m.get("overlap_blocks")));
        return "msgpack-hit-rate";
      }
      case Pushed.ForwardPass f -> {
        Map<String, Object> s = (Map<String, Object>) m.get("scheduled_requests");
        Map<String, Object> q = (Map<String, Object>) m.get("queued_requests");
        assertThat(f.engineWorkerId()).isEqualTo(m.get("worker_id"));
        assertThat(f.dpRank()).isEqualTo(((BigInteger) m.get("dp_rank")).intValue());
        assertThat(f.activeRequests())
            .isEqualTo(bits(s.get("num_prefill_requests")) + bits(s.get("num_decode_requests")));
        assertThat(f.waitingRequests())
            .isEqualTo(bits(q.get("num_prefill_requests")) + bits(q.get("num_decode_requests")));
        return "forward-pass";
      }
      case Pushed.Ignored i -> throw new AssertionError("handled above: " + i);
    }
  }

  @Test
  void everyCapturedLoadEnvelopeTakesTheFastPathWithTheGeneralReadingsResult() throws IOException {
    int taken = 0;
    for (Captured c : captured()) {
      if (c.bytes()[0] != '{' && c.topic().equals(PushDecoder.KV_METRICS)) {
        Pushed.Load fast = EnvelopeScanner.load(c.bytes());
        assertThat(fast).as(c.source()).isNotNull().isEqualTo(PushDecoder.general(c.bytes()));
        taken++;
      }
    }
    assertThat(taken).isPositive();
  }

  @Test
  void publisherIdsAtOrAbove2To63AreReadUnsigned() throws IOException {
    // 1.3.x publishers draw random u64 ids, often >= 2^63
    boolean seen = false;
    for (Captured c : captured()) {
      Pushed p = PushDecoder.decode(c.topic(), c.bytes());
      if (p.envelope() != null && p.envelope().publisherId() < 0) {
        seen = true;
        assertThat(Long.toUnsignedString(p.envelope().publisherId())).startsWith("1");
      }
    }
    assertThat(seen).as("a capture with a publisher id >= 2^63").isTrue();
  }

  @Test
  void aJsonWorkerIdAbove2To63IsReadUnsignedAndOneAbove2To64IsRefused() {
    Pushed.Load l =
        (Pushed.Load)
            PushDecoder.decode(
                "kv_metrics",
                "{\"worker_id\":18446744073709551615,\"dp_rank\":0,\"active_decode_blocks\":4,\"active_prefill_tokens\":null}"
                    .getBytes(StandardCharsets.UTF_8));
    assertThat(Long.toUnsignedString(l.workerId())).isEqualTo("18446744073709551615");
    assertThatThrownBy(
            () ->
                PushDecoder.decode(
                    "kv_metrics",
                    "{\"worker_id\":18446744073709551616,\"active_decode_blocks\":4}"
                        .getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(BadPayload.class);
  }

  @Test
  void aRouterEstimateIsMarkedAndAWorkersOwnLoadIsNot() {
    byte[] router =
        "{\"worker_id\":7,\"dp_rank\":0,\"active_decode_blocks\":2,\"active_prefill_tokens\":32}"
            .getBytes(StandardCharsets.UTF_8);
    byte[] worker =
        "{\"worker_id\":7,\"dp_rank\":0,\"active_decode_blocks\":2,\"active_prefill_tokens\":null}"
            .getBytes(StandardCharsets.UTF_8);
    assertThat(((Pushed.Load) PushDecoder.decode("kv_metrics", router)).fromRouter()).isTrue();
    assertThat(((Pushed.Load) PushDecoder.decode("kv_metrics", worker)).fromRouter()).isFalse();
  }

  @Test
  void aLoadWithNoFieldsItKnowsIsRefusedWithAReason() {
    assertThatThrownBy(
            () ->
                PushDecoder.decode(
                    "kv_metrics", "{\"worker_id\":1}".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(
            BadPayload.class, e -> assertThat(e.reason()).isEqualTo(DecodeError.INVALID_LOAD));
    assertThatThrownBy(() -> PushDecoder.decode("kv_metrics", new byte[0]))
        .isInstanceOf(BadPayload.class);
  }
}
