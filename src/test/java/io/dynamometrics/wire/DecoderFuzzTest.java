package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.sim.WireGeneration;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * Generated hostile payloads, a million and more: deep nesting, huge and negative numbers, NaN,
 * wrong types, duplicate keys, long names, invalid UTF-8, quotes and newlines. No exception may
 * escape a decoder, and a decoded value must belong to the subject it came with.
 */
class DecoderFuzzTest {
  private static final int PAYLOADS = 600_000; // per test: 1.8 million in all
  private static final String[] NUMBERS = {
    "0",
    "1",
    "-1",
    "3",
    "1.5",
    "1e308",
    "-1e308",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "NaN",
    "Infinity",
    "-0",
    "0.1",
    "1E2",
    "00",
    "\"7\"",
    "null",
    "true",
    "[]",
    "{}"
  };
  private static final String[] FIELDS = {
    "request_active_slots",
    "request_total_slots",
    "kv_active_blocks",
    "kv_total_blocks",
    "num_requests_waiting",
    "gpu_cache_usage_perc",
    "gpu_prefix_cache_hit_rate",
    "data_parallel_rank"
  };

  private static String pick(Random r, String[] a) {
    return a[r.nextInt(a.length)];
  }

  private static String hostileString(Random r) {
    return switch (r.nextInt(6)) {
      case 0 -> "a\\\"b\\\\c\\n";
      case 1 -> "x".repeat(r.nextInt(3) == 0 ? 70_000 : 10);
      case 2 -> "\\u0000\\uD800";
      case 3 -> "dynamo_my_component.my_endpoint-" + Long.toHexString(r.nextLong());
      case 4 -> "dynamo_my_component.my_endpoint2-1f";
      default -> "\u00e9\u4e2d\n";
    };
  }

  private static String metrics(Random r) {
    StringBuilder sb = new StringBuilder("{");
    int n = r.nextInt(10);
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append('"')
          .append(pick(r, FIELDS))
          .append("\":")
          .append(r.nextInt(4) == 0 ? pick(r, NUMBERS) : Integer.toString(r.nextInt(5000)));
    }
    return sb.append('}').toString();
  }

  private static String statsReply(Random r) {
    return switch (r.nextInt(8)) {
      case 0 -> "[".repeat(r.nextInt(200)) + "]".repeat(r.nextInt(200));
      case 1 -> "{\"endpoints\":" + pick(r, NUMBERS) + "}";
      case 2 ->
          "{\"endpoints\":[{\"subject\":\""
              + hostileString(r)
              + "\",\"data\":"
              + metrics(r)
              + "}]}";
      case 3 ->
          "{\"endpoints\":[{\"subject\":\"dynamo_my_component.my_endpoint-a1\",\"subject\":\"x\",\"data\":{}}]}";
      case 4 ->
          "{\"endpoints\":[{\"subject\":\"dynamo_my_component.my_endpoint-"
              + Long.toHexString(r.nextLong() >>> 1)
              + "\",\"data\":{\"worker_stats\":"
              + metrics(r)
              + ",\"kv_stats\":"
              + metrics(r)
              + "}}]}";
      case 5 ->
          "{\"endpoints\":[{\"data\":"
              + metrics(r)
              + ",\"subject\":\"dynamo_my_component.my_endpoint-"
              + Long.toHexString(r.nextLong() >>> 1)
              + "\"},"
              + "{\"subject\":"
              + pick(r, NUMBERS)
              + "}]}";
      case 6 -> "{\"a\":{\"b\":" + "[".repeat(40) + "]".repeat(40) + "},\"endpoints\":[]}";
      default -> {
        byte[] b = new byte[r.nextInt(64)];
        r.nextBytes(b);
        yield new String(b, StandardCharsets.ISO_8859_1);
      }
    };
  }

  @Test
  void statsDecoderNeverThrowsAndKeepsValuesWithTheirSubject() {
    StatsReplyDecoder d = new StatsReplyDecoder(List.of("dynamo_my_component"), "my_endpoint");
    Random r = new Random(20261130);
    int decoded = 0;
    int rejected = 0;
    for (int i = 0; i < PAYLOADS; i++) {
      byte[] payload =
          statsReply(r).getBytes(i % 5 == 0 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
      StatsReplyDecoder.Result res = d.decode(payload);
      for (StatsEndpoint e : res.endpoints()) {
        decoded++;
        assertThat(e.subject()).startsWith("dynamo_my_component.my_endpoint-");
        assertThat(Subjects.workerId(e.subject())).isEqualTo(e.workerId());
        assertThat(e.metrics().kvActiveBlocks()).isNotNegative();
        assertThat(Double.isFinite(e.metrics().gpuCacheUsagePerc())).isTrue();
      }
      for (DecodeError err : res.errors()) {
        rejected++;
        assertThat(err.reason())
            .isIn(
                DecodeError.INVALID_JSON,
                DecodeError.NOT_STATS_REPLY,
                DecodeError.NOT_METRICS,
                DecodeError.NO_WORKER_ID);
      }
    }
    assertThat(decoded).as("some generated replies are valid").isPositive();
    assertThat(rejected).as("most are not").isGreaterThan(decoded);
  }

  @Test
  void eventDecoderNeverThrowsAnythingButItsRejection() {
    Random r = new Random(7);
    int accepted = 0;
    for (int i = 0; i < PAYLOADS; i++) {
      String payload =
          switch (r.nextInt(5)) {
            case 0 ->
                "{\"worker_id\":"
                    + pick(r, NUMBERS)
                    + ",\"isl_blocks\":"
                    + pick(r, NUMBERS)
                    + ",\"overlap_blocks\":"
                    + pick(r, NUMBERS)
                    + "}";
            case 1 ->
                "{\"worker_id\":"
                    + r.nextLong()
                    + ",\"isl_blocks\":"
                    + r.nextInt(100)
                    + ",\"overlap_blocks\":"
                    + r.nextInt(100)
                    + "}";
            case 2 -> "{\"worker_id\":1,\"worker_id\":2,\"isl_blocks\":1,\"overlap_blocks\":0}";
            case 3 -> "[".repeat(r.nextInt(100)) + "{\"worker_id\":1}";
            default -> statsReply(r);
          };
      try {
        HitRateEvent e = HitRateEventDecoder.decode(payload.getBytes(StandardCharsets.UTF_8));
        accepted++;
        assertThat(e.overlapBlocks()).isNotNegative();
        assertThat(e.islBlocks()).isNotNegative();
      } catch (IllegalArgumentException expected) {
        assertThat(expected.getMessage()).isNotBlank().doesNotContain("\n");
      }
    }
    assertThat(accepted).isPositive();
  }

  /**
   * Dynamo's shape with values from the edges of the range, mutated byte by byte half of the time.
   */
  private static byte[] nearlyCanonical(Random r) {
    long[] edges = {
      0,
      1,
      9,
      10,
      99,
      Long.MAX_VALUE,
      Long.MAX_VALUE - 1,
      1_000_000_000_000_000_000L,
      7587884888253033398L
    };
    LongSupplier n =
        () -> r.nextBoolean() ? edges[r.nextInt(edges.length)] : r.nextLong() >>> r.nextInt(64);
    String text =
        "{\"worker_id\":"
            + n.getAsLong()
            + ",\"isl_blocks\":"
            + n.getAsLong()
            + ",\"overlap_blocks\":"
            + n.getAsLong()
            + "}";
    if (r.nextInt(4) == 0) { // overlap within isl, so that many are valid
      long isl = r.nextInt(1000);
      text =
          "{\"worker_id\":"
              + n.getAsLong()
              + ",\"isl_blocks\":"
              + isl
              + ",\"overlap_blocks\":"
              + r.nextInt((int) isl + 1)
              + "}";
    }
    return mutated(r, new StringBuilder(text), "0123456789-+.eE\" ,:{}[]x");
  }

  /**
   * {@code b} as UTF-8, half of the time with one to three of its characters replaced, deleted or
   * joined by one of {@code chars}.
   */
  private static byte[] mutated(Random r, StringBuilder b, String chars) {
    for (int m = r.nextBoolean() ? 0 : 1 + r.nextInt(3); m > 0; m--) {
      int at = r.nextInt(b.length());
      switch (r.nextInt(3)) {
        case 0 -> b.setCharAt(at, chars.charAt(r.nextInt(chars.length())));
        case 1 -> b.deleteCharAt(at);
        default -> b.insert(at, chars.charAt(r.nextInt(chars.length())));
      }
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theEventFastPathAgreesWithTheJsonParserOnEverythingItTakes() {
    Random r = new Random(11);
    int fast = 0;
    for (int i = 0; i < PAYLOADS; i++) {
      byte[] payload = nearlyCanonical(r);
      HitRateEvent scanned = HitRateEventDecoder.canonical(payload);
      if (scanned == null) {
        continue;
      }
      fast++;
      assertThat(HitRateEventDecoder.parse(payload))
          .as(new String(payload, StandardCharsets.UTF_8))
          .isEqualTo(scanned);
    }
    // and it takes Dynamo's own event
    assertThat(HitRateEventDecoder.canonical(Fixtures.bytes("event-kv-hit-rate.json"))).isNotNull();
    assertThat(fast).as("payloads the scanner took").isGreaterThan(PAYLOADS / 4);
  }

  /** A {@code data} object: flat, nested, or a mix, fields of any type, often complete. */
  private static String data(Random r) {
    return switch (r.nextInt(5)) {
      case 0 -> metrics(r);
      case 1 -> complete(r, FIELDS);
      case 2 ->
          "{\"worker_stats\":"
              + (r.nextInt(4) == 0 ? pick(r, NUMBERS) : complete(r, FIELDS))
              + ",\"kv_stats\":"
              + (r.nextInt(4) == 0 ? pick(r, NUMBERS) : complete(r, FIELDS))
              + ",\"spec_decode_stats\":null}";
      case 3 -> "{\"kv_stats\":" + metrics(r) + "," + complete(r, FIELDS).substring(1);
      default -> "{\"worker_stats\":" + pick(r, NUMBERS) + "," + complete(r, FIELDS).substring(1);
    };
  }

  /** Every one of {@code fields} once, in a random order, now and then of a wrong type. */
  private static String complete(Random r, String[] fields) {
    List<String> order = new java.util.ArrayList<>(List.of(fields));
    java.util.Collections.shuffle(order, r);
    StringBuilder sb = new StringBuilder("{");
    for (String f : order) {
      if (r.nextInt(12) == 0) {
        continue;
      }
      String value =
          r.nextInt(10) == 0
              ? pick(r, NUMBERS)
              : f.startsWith("gpu_")
                  ? Double.toString(r.nextDouble())
                  : Integer.toString(r.nextInt(5000));
      sb.append(sb.length() > 1 ? "," : "").append('"').append(f).append("\":").append(value);
    }
    return sb.append('}').toString();
  }

  private static String decodedByTree(byte[] data) {
    try {
      return MetricsDecoder.decode(Json.mapper().readTree(data)).toString();
    } catch (IllegalArgumentException e) {
      return "invalid: " + e.getMessage();
    } catch (java.io.IOException e) {
      return "unparseable";
    }
  }

  /** {@code data} decoded where a reply has it: after other bytes, so its offsets are not 0. */
  private static String decodedByStream(String data) {
    byte[] reply = ("[\"\u00e9\",1," + data + "]").getBytes(StandardCharsets.UTF_8);
    try (com.fasterxml.jackson.core.JsonParser p = Json.parser(reply)) {
      p.nextToken();
      p.nextToken();
      p.nextToken();
      if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return "not an object";
      }
      return MetricsDecoder.stream(p, reply).toString();
    } catch (IllegalArgumentException e) {
      return "invalid: " + e.getMessage();
    } catch (java.io.IOException e) {
      return "unparseable";
    }
  }

  @Test
  void streamedMetricsAgreeWithTheTreeOnEveryDataObject() {
    Random r = new Random(20261202);
    int valid = 0;
    int invalid = 0;
    for (int i = 0; i < PAYLOADS / 2; i++) {
      String json = data(r);
      String expected = decodedByTree(json.getBytes(StandardCharsets.UTF_8));
      assertThat(decodedByStream(json)).as(json).isEqualTo(expected);
      if (expected.startsWith("ForwardPassMetrics")) {
        valid++;
      } else if (expected.startsWith("invalid")) {
        invalid++;
      }
    }
    assertThat(valid).as("valid data objects").isGreaterThan(PAYLOADS / 20);
    assertThat(invalid).as("invalid ones").isGreaterThan(PAYLOADS / 20);
  }

  @Test
  void anInvalidDataObjectDeepInAReplyIsReportedInTheTreesWords() {
    StatsReplyDecoder d = new StatsReplyDecoder(List.of("dynamo_my_component"), "my_endpoint");
    String reply =
        "{\"name\":\"x\",\"endpoints\":[{\"subject\":\"dynamo_my_component.other-1\",\"data\":{}},"
            + "{\"data\":{\"request_active_slots\":1,\"request_total_slots\":2,\"kv_active_blocks\":-3,"
            + "\"kv_total_blocks\":4,\"num_requests_waiting\":0,\"gpu_cache_usage_perc\":0.5,"
            + "\"gpu_prefix_cache_hit_rate\":0.1},\"subject\":\"dynamo_my_component.my_endpoint-1f\"}]}";
    StatsReplyDecoder.Result res = d.decode(reply.getBytes(StandardCharsets.UTF_8));
    assertThat(res.endpoints()).isEmpty();
    assertThat(res.errors())
        .extracting(DecodeError::detail)
        .containsExactly(
            "dynamo_my_component.my_endpoint-1f: kv_active_blocks must be an unsigned integer, got -3");
  }

  /**
   * A reply as Dynamo's workers write one, from a fixture or a generation's metrics with random
   * values and whitespace, then mutated byte by byte half of the time.
   */
  private static byte[] nearlyRealReply(Random r) {
    String text =
        switch (r.nextInt(4)) {
          case 0 -> Fixtures.text(pick(r, STATS_FIXTURES));
          default -> {
            long lease = r.nextLong() >>> 1;
            var m =
                new ForwardPassMetrics(
                    r.nextInt(64),
                    64,
                    r.nextInt(5000),
                    5000,
                    r.nextInt(9),
                    r.nextDouble(),
                    r.nextInt(3) == 0 ? r.nextInt(2) : r.nextFloat(),
                    r.nextBoolean() ? ForwardPassMetrics.NO_RANK : r.nextInt(4));
            var generations = List.of(WireGeneration.G1, WireGeneration.G2, WireGeneration.G3);
            String data = generations.get(r.nextInt(generations.size())).metricsJson(m);
            yield "{\"type\":\"io.nats.micro.v1.stats_response\",\"name\":\"dynamo_my_component\","
                + "\"id\":\"n3sT\",\"version\":\"0.0.1\",\"started\":\"2025-08-01T12:00:00.5Z\","
                + "\"endpoints\":[{\"name\":\"my_endpoint\",\"subject\":\"dynamo_my_component.my_endpoint-"
                + Long.toHexString(lease)
                + "\",\"num_requests\":"
                + r.nextInt(1000)
                + ",\"processing_time\":1.5e3,\"last_error\":\"\",\"data\":"
                + data
                + "},{\"name\":\"generate\",\"subject\":\"dynamo_my_component.generate-"
                + Long.toHexString(lease)
                + "\",\"data\":null,\"queue_group\":\"q\"}]}";
          }
        };
    StringBuilder b = new StringBuilder(text);
    if (r.nextInt(4) == 0) { // whitespace where JSON allows it, and where it does not
      for (int k = 1 + r.nextInt(4); k > 0; k--) {
        b.insert(r.nextInt(b.length() + 1), " \n\t\r\f".charAt(r.nextInt(5)));
      }
    }
    return mutated(r, b, "0123456789-+.eE\" ,:{}[]xnul\\\u00e9");
  }

  private static final String[] STATS_FIXTURES = {
    "stats-g1-vllm.json",
    "stats-g2-dp-ranks.json",
    "stats-g2-jnats-style.json",
    "stats-g3-nested.json"
  };

  @Test
  void theReplyScannerAgreesWithTheParserOnEveryReply() {
    StatsReplyDecoder d = new StatsReplyDecoder(List.of("dynamo_my_component"), "my_endpoint");
    Random r = new Random(20261203);
    int scanned = 0;
    int workers = 0;
    for (int i = 0; i < PAYLOADS / 2; i++) {
      byte[] payload =
          i % 3 == 0 ? statsReply(r).getBytes(StandardCharsets.UTF_8) : nearlyRealReply(r);
      StatsReplyDecoder.Result parsed = d.parse(payload);
      assertThat(d.decode(payload))
          .as(new String(payload, StandardCharsets.UTF_8))
          .isEqualTo(parsed);
      if (StatsReplyScanner.scan(payload) != null) {
        scanned++;
        workers += parsed.endpoints().size();
      }
    }
    assertThat(scanned).as("replies the scanner took").isGreaterThan(PAYLOADS / 8);
    assertThat(workers).as("workers among them").isGreaterThan(PAYLOADS / 16);
  }

  @Test
  void theReplyScannerTakesEveryGenerationsReply() {
    for (String fixture : STATS_FIXTURES) {
      List<StatsReplyScanner.Endpoint> endpoints = StatsReplyScanner.scan(Fixtures.bytes(fixture));
      assertThat(endpoints).as(fixture).isNotNull().isNotEmpty();
      assertThat(endpoints).as(fixture).anyMatch(e -> e.metrics() != null);
    }
  }
}
