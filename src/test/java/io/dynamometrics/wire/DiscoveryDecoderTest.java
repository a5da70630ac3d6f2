package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Discovery's streaming reads of {@code $SRV.INFO} and {@code $SRV.STATS} replies find what the
 * tree finds (the rule it replaced): on every stats fixture, on hand-made edge cases, and on 20,000
 * byte mutations of them.
 */
class DiscoveryDecoderTest {
  private static final String INFO =
      "{\"type\":\"io.nats.micro.v1.info_response\",\"name\":\"dynamo_vllmworker\",\"id\":\"x\","
          + "\"version\":\"0.0.1\",\"description\":\"Dynamo component VllmWorker in namespace dynamo\","
          + "\"endpoints\":[{\"name\":\"dynamo_vllmworker-load_metrics\",\"subject\":\"x\"}]}";

  private static final String STATS_EDGES =
      "{\"endpoints\":["
          + "{\"subject\":\"dynamo_w.generate-1a\",\"data\":null},"
          + "{\"subject\":\"dynamo_w.load_metrics\",\"data\":{\"kv_active_blocks\":1}},"
          + "{\"data\":{\"request_active_slots\":1,\"request_total_slots\":2,\"kv_active_blocks\":3,"
          + "\"kv_total_blocks\":4,\"num_requests_waiting\":0,\"gpu_cache_usage_perc\":0.5,"
          + "\"gpu_prefix_cache_hit_rate\":0.1},\"subject\":\"dynamo_w.load_metrics-2b\"},"
          + "{\"subject\":\"dynamo_w.load_metrics-3c\",\"data\":[1,2]},"
          + "\"not an object\","
          + "{\"subject\":7,\"data\":{}}],\"name\":\"dynamo_w\"}";

  /** The tree's reading of a stats reply, as discovery did it before it streamed. */
  private static List<DiscoveryDecoder.MetricsEndpoint> byTree(byte[] payload) {
    List<DiscoveryDecoder.MetricsEndpoint> out = new ArrayList<>();
    try {
      JsonNode endpoints = Json.mapper().readTree(payload);
      endpoints = endpoints == null ? null : endpoints.get("endpoints");
      if (endpoints == null || !endpoints.isArray()) {
        return out;
      }
      for (JsonNode ep : endpoints) {
        JsonNode subject = ep.get("subject");
        if (subject == null || !subject.isTextual()) {
          continue;
        }
        String s = subject.asText();
        int dot = s.indexOf('.');
        int dash = s.lastIndexOf('-');
        if (dot <= 0 || dash <= dot + 1 || Subjects.workerId(s) == null) {
          continue;
        }
        try {
          MetricsDecoder.decode(ep.get("data"));
          out.add(
              new DiscoveryDecoder.MetricsEndpoint(
                  s.substring(0, dot), s.substring(dot + 1, dash)));
        } catch (IllegalArgumentException notMetrics) {
          // not a metrics endpoint
        }
      }
    } catch (IOException e) {
      return new ArrayList<>();
    }
    return out;
  }

  private static List<byte[]> statsReplies() throws IOException {
    List<byte[]> replies = new ArrayList<>();
    for (String name :
        List.of(
            "stats-g1-vllm.json",
            "stats-g2-dp-ranks.json",
            "stats-g2-jnats-style.json",
            "stats-g3-nested.json")) {
      replies.add(Fixtures.bytes(name));
    }
    for (JsonNode reply :
        Json.mapper().readTree(Fixtures.bytes("stats-one-bad-among-three.json"))) {
      replies.add(reply.toString().getBytes(StandardCharsets.UTF_8));
    }
    replies.add(STATS_EDGES.getBytes(StandardCharsets.UTF_8));
    return replies;
  }

  @Test
  void findsTheMetricsEndpointsTheTreeFinds() throws IOException {
    int found = 0;
    for (byte[] reply : statsReplies()) {
      List<DiscoveryDecoder.MetricsEndpoint> streamed = DiscoveryDecoder.metricsEndpoints(reply);
      assertThat(streamed).isEqualTo(byTree(reply));
      found += streamed.size();
    }
    assertThat(found).isGreaterThan(5); // the fixtures' workers are found, not only rejected
    assertThat(DiscoveryDecoder.metricsEndpoints(STATS_EDGES.getBytes(StandardCharsets.UTF_8)))
        .containsExactly(new DiscoveryDecoder.MetricsEndpoint("dynamo_w", "load_metrics"));
  }

  @Test
  void agreesWithTheTreeOnMutatedReplies() throws IOException {
    Random r = new Random(20261202);
    List<byte[]> replies = statsReplies();
    String alphabet = "{}[]\":,0-9.e nul\\";
    for (int i = 0; i < 20_000; i++) {
      byte[] b = replies.get(r.nextInt(replies.size())).clone();
      for (int k = r.nextInt(3) + 1; k > 0; k--) {
        b[r.nextInt(b.length)] = (byte) alphabet.charAt(r.nextInt(alphabet.length()));
      }
      assertThat(DiscoveryDecoder.metricsEndpoints(b))
          .as(new String(b, StandardCharsets.UTF_8))
          .isEqualTo(byTree(b));
    }
  }

  @Test
  void readsTheDynamoIdentityOfAnInfoReplyAndNothingElse() {
    assertThat(DiscoveryDecoder.info(INFO.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(new DiscoveryDecoder.ServiceInfo("dynamo_vllmworker", "dynamo", "VllmWorker"));
    for (String notDynamo :
        List.of(
            INFO.replace("Dynamo component", "Some service"),
            INFO.replace("\"name\":\"dynamo_vllmworker\"", "\"name\":7"),
            INFO.replace("\"id\":\"x\"", "\"name\":\"again\""), // a duplicate key
            INFO.substring(0, INFO.length() - 1), // cut short
            "[" + INFO + "]",
            "",
            "{\"description\":\"Dynamo component A in namespace b\"}")) {
      assertThat(DiscoveryDecoder.info(notDynamo.getBytes(StandardCharsets.UTF_8)))
          .as(notDynamo)
          .isNull();
    }
  }
}
