package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every fixture gives exactly the result its README lists. */
class FixturesDecodeTest {
  private static StatsReplyDecoder decoder(String component, String endpoint) {
    return new StatsReplyDecoder(ServiceNames.all("dynamo", component), endpoint);
  }

  @Test
  void g1ReplyYieldsTheLoadMetricsWorkerAndSkipsGenerate() {
    var r = decoder("VllmWorker", "load_metrics").decode(Fixtures.bytes("stats-g1-vllm.json"));
    assertThat(r.errors()).isEmpty();
    assertThat(r.endpoints()).hasSize(1);
    StatsEndpoint e = r.endpoints().get(0);
    assertThat(e.workerId()).isEqualTo(7587884888253033398L);
    assertThat(e.metrics())
        .isEqualTo(
            new ForwardPassMetrics(2, 1024, 40, 1024, 0, 0.039, 0.25, ForwardPassMetrics.NO_RANK));
  }

  @Test
  void g2JnatsStyleReplyMatchesMyEndpointButNotMyEndpoint2() {
    var r =
        decoder("my_component", "my_endpoint").decode(Fixtures.bytes("stats-g2-jnats-style.json"));
    assertThat(r.errors()).isEmpty();
    assertThat(r.endpoints())
        .extracting(StatsEndpoint::workerId)
        .containsExactly(8798674938817896561L);
    assertThat(r.endpoints().get(0).metrics().kvActiveBlocks()).isEqualTo(61);
    assertThat(r.endpoints().get(0).metrics().kvTotalBlocks()).isEqualTo(100);
  }

  @Test
  void dataParallelRanksBecomeTwoWorkers() {
    var r = decoder("backend", "load_metrics").decode(Fixtures.bytes("stats-g2-dp-ranks.json"));
    assertThat(r.errors()).isEmpty();
    assertThat(r.endpoints())
        .extracting(
            e -> e.workerId() + "/" + e.metrics().dpRank() + ":" + e.metrics().kvActiveBlocks())
        .containsExactly("31/0:300", "31/1:500");
  }

  @Test
  void g3NestedMetricsAreRead() {
    var r = decoder("VllmWorker", "load_metrics").decode(Fixtures.bytes("stats-g3-nested.json"));
    assertThat(r.errors()).isEmpty();
    ForwardPassMetrics m = r.endpoints().get(0).metrics();
    assertThat(r.endpoints().get(0).workerId()).isEqualTo(7587884888253033398L);
    assertThat(m.kvActiveBlocks()).isEqualTo(120);
    assertThat(m.kvTotalBlocks()).isEqualTo(2048);
    assertThat(m.requestActiveSlots()).isEqualTo(3);
    assertThat(m.requestTotalSlots()).isEqualTo(64);
    assertThat(m.numRequestsWaiting()).isEqualTo(1);
    assertThat(m.hasRank()).isFalse();
    assertThat(m.nested()).isTrue();
  }

  @Test
  void l2cKeepsTheFormEachWorkerSent() throws Exception {
    // Dynamo 0.3.2's own aggregator wraps G3 metrics as engine_load_metrics (seen in ConformanceIT)
    var g3 =
        decoder("VllmWorker", "load_metrics")
            .decode(Fixtures.bytes("stats-g3-nested.json"))
            .endpoints();
    var g1 =
        decoder("VllmWorker", "load_metrics")
            .decode(Fixtures.bytes("stats-g1-vllm.json"))
            .endpoints();
    JsonNode nested =
        Json.mapper()
            .readTree(L2cEncoder.encode(g3, 120.0, 0.0))
            .path("endpoints")
            .path("7587884888253033398")
            .path("data");
    assertThat(nested.fieldNames()).toIterable().containsExactly("engine_load_metrics");
    JsonNode inner = nested.path("engine_load_metrics");
    assertThat(inner.path("worker_stats").path("request_active_slots").asLong()).isEqualTo(3);
    assertThat(inner.path("worker_stats").path("data_parallel_rank").isNull()).isTrue();
    assertThat(inner.path("kv_stats").path("kv_active_blocks").asLong()).isEqualTo(120);
    assertThat(inner.path("kv_stats").path("kv_total_blocks").asLong()).isEqualTo(2048);
    assertThat(inner.has("spec_decode_stats")).isTrue();
    JsonNode flat =
        Json.mapper()
            .readTree(L2cEncoder.encode(g1, 40.0, 0.0))
            .path("endpoints")
            .path("7587884888253033398")
            .path("data");
    assertThat(flat.path("kv_active_blocks").asLong()).isEqualTo(40);
    assertThat(flat.has("engine_load_metrics")).isFalse();
  }

  @Test
  void oneBadReplyAmongThreeAffectsOnlyItself() throws Exception {
    JsonNode replies = Json.mapper().readTree(Fixtures.bytes("stats-one-bad-among-three.json"));
    StatsReplyDecoder d = decoder("my_component", "my_endpoint");
    List<StatsEndpoint> good = new ArrayList<>();
    List<DecodeError> errors = new ArrayList<>();
    for (JsonNode reply : replies) {
      var r = d.decode(reply.toString().getBytes(StandardCharsets.UTF_8));
      good.addAll(r.endpoints());
      errors.addAll(r.errors());
    }
    assertThat(good)
        .extracting(e -> e.workerId() + ":" + e.metrics().kvActiveBlocks())
        .containsExactly("161:10", "195:30");
    assertThat(errors).extracting(DecodeError::reason).containsExactly(DecodeError.NOT_METRICS);
    assertThat(errors.get(0).detail()).contains("my_endpoint-b2");
  }

  @Test
  void l2cEventOfTheThreeReplyCaseEqualsTheFixture() throws Exception {
    JsonNode replies = Json.mapper().readTree(Fixtures.bytes("stats-one-bad-among-three.json"));
    StatsReplyDecoder d = decoder("my_component", "my_endpoint");
    List<StatsEndpoint> good = new ArrayList<>();
    for (JsonNode reply : replies) {
      good.addAll(d.decode(reply.toString().getBytes(StandardCharsets.UTF_8)).endpoints());
    }
    byte[] l2c = L2cEncoder.encode(good, 20.0, 10.0);
    assertThat(Json.mapper().readTree(l2c))
        .isEqualTo(Json.mapper().readTree(Fixtures.bytes("l2c-g2.json")));
  }

  @Test
  void l2cWithNoEndpointsSendsNullLoad() throws Exception {
    JsonNode l2c = Json.mapper().readTree(L2cEncoder.encode(List.of(), null, null));
    assertThat(l2c.get("load_avg").isNull()).isTrue();
    assertThat(l2c.get("load_std").isNull()).isTrue();
    assertThat(l2c.get("endpoints").size()).isZero();
  }

  @Test
  void hitRateEventFixtureDecodes() {
    HitRateEvent e = HitRateEventDecoder.decode(Fixtures.bytes("event-kv-hit-rate.json"));
    assertThat(e).isEqualTo(new HitRateEvent(7587884888253033398L, 64, 48));
  }

  @Test
  void moreOverlapThanInputIsCountedAsTheRealRoutersOf011To021SendIt() {
    // the real KvRouter of Dynamo 0.2.1 sent exactly this after a KvEventPublisher stored two
    // blocks
    String real = "{\"worker_id\":7587899290083089957,\"isl_blocks\":1,\"overlap_blocks\":2}";
    assertThat(HitRateEventDecoder.decode(real.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(new HitRateEvent(7587899290083089957L, 1, 2));
    assertThat(
            HitRateEventDecoder.decode(
                " {\"overlap_blocks\":5, \"worker_id\":1, \"isl_blocks\":4} "
                    .getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(new HitRateEvent(1, 4, 5));
  }

  @Test
  void invalidHitRateEventsAreRejectedWithTheReason() {
    for (String bad :
        new String[] {
          "{\"worker_id\":1,\"isl_blocks\":-4,\"overlap_blocks\":0}",
          "{\"worker_id\":1,\"isl_blocks\":\"4\",\"overlap_blocks\":0}",
          "{\"worker_id\":1.5,\"isl_blocks\":4,\"overlap_blocks\":0}",
          "{\"worker_id\":1,\"isl_blocks\":4,\"overlap_blocks\":NaN}",
          "{\"worker_id\":1,\"worker_id\":2,\"isl_blocks\":4,\"overlap_blocks\":0}",
          "[1,2,3]",
          "",
          "\u0000\u00ff"
        }) {
      assertThatThrownBy(
              () -> HitRateEventDecoder.decode(bad.getBytes(StandardCharsets.ISO_8859_1)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void garbageRepliesAreCountedNotThrown() {
    StatsReplyDecoder d = decoder("my_component", "my_endpoint");
    assertThat(d.decode("not json".getBytes(StandardCharsets.UTF_8)).errors())
        .extracting(DecodeError::reason)
        .containsExactly(DecodeError.INVALID_JSON);
    assertThat(d.decode("{\"x\":1}".getBytes(StandardCharsets.UTF_8)).errors())
        .extracting(DecodeError::reason)
        .containsExactly(DecodeError.NOT_STATS_REPLY);
    String deep = "[".repeat(5000) + "]".repeat(5000);
    assertThat(d.decode(deep.getBytes(StandardCharsets.UTF_8)).errors())
        .extracting(DecodeError::reason)
        .containsExactly(DecodeError.INVALID_JSON);
  }

  @Test
  void hugeAndFractionalNumbersAreNotMetrics() {
    String tmpl =
        "{\"endpoints\":[{\"subject\":\"dynamo_my_component.my_endpoint-a1\",\"data\":{\"request_active_slots\":%s,"
            + "\"request_total_slots\":10,\"kv_active_blocks\":10,\"kv_total_blocks\":100,\"num_requests_waiting\":0,"
            + "\"gpu_cache_usage_perc\":0.1,\"gpu_prefix_cache_hit_rate\":0.1}}]}";
    StatsReplyDecoder d = decoder("my_component", "my_endpoint");
    for (String v : new String[] {"1.5", "-1", "18446744073709551616", "\"3\"", "null", "true"}) {
      var r = d.decode(String.format(tmpl, v).getBytes(StandardCharsets.UTF_8));
      assertThat(r.endpoints()).as(v).isEmpty();
      assertThat(r.errors())
          .as(v)
          .extracting(DecodeError::reason)
          .containsExactly(DecodeError.NOT_METRICS);
    }
    assertThat(
            d.decode(String.format(tmpl, "3").getBytes(StandardCharsets.UTF_8))
                .endpoints()
                .get(0)
                .metrics()
                .requestActiveSlots())
        .isEqualTo(3);
  }

  @Test
  void g1NamesAreMatchedAsWellAsG2() {
    var r = decoder("VllmWorker", "load_metrics").decode(Fixtures.bytes("stats-g1-vllm.json"));
    assertThat(r.endpoints().get(0).metrics().gpuCacheUsagePerc()).isCloseTo(0.039, within(1e-9));
  }

  @Test
  void copiesOfTheSharedFixturesAreIdentical() throws Exception {
    String dir = System.getProperty("shared.fixtures.dir");
    Path shared = dir == null ? null : Path.of(dir);
    // a checkout without the shared spec: the copies are the fixtures, and this shows as skipped
    assumeTrue(shared != null && Files.isDirectory(shared), "no shared fixtures at " + dir);
    try (var files = Files.list(shared)) {
      for (Path f : files.toList()) {
        assertThat(Fixtures.bytes(f.getFileName().toString()))
            .as(f.toString())
            .isEqualTo(Files.readAllBytes(f));
      }
    }
  }
}
