package io.dynamometrics.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.wire.Json;
import org.junit.jupiter.api.Test;

class RosterBuilderTest {
  @Test
  void capacityComesFromRuntimeConfig() throws Exception {
    assertThat(
            RosterBuilder.capacity(
                Json.mapper()
                    .readTree(
                        "{\"card_json\":{\"runtime_config\":{\"total_kv_blocks\":512,\"max_num_seqs\":8}}}")))
        .isEqualTo(new Roster.Capacity(512, 8));
    assertThat(
            RosterBuilder.capacity(
                Json.mapper().readTree("{\"runtime_config\":{\"max_num_seqs\":4}}")))
        .isEqualTo(new Roster.Capacity(-1, 4));
    assertThat(
            RosterBuilder.capacity(
                Json.mapper().readTree("{\"card_json\":{\"runtime_config\":{}}}")))
        .isNull();
    assertThat(RosterBuilder.capacity(null)).isNull();
  }

  @Test
  void recordsOfOtherNamespacesAndRoutersAreLeftOut() throws Exception {
    RosterBuilder b = new RosterBuilder("dyn");
    b.endpoint("dyn/backend/generate/1a", "pod-a");
    b.endpoint("other/backend/generate/2b", "pod-b");
    b.endpoint("dyn/kv-router/generate/3c", "pod-c");
    b.channel(
        "namespace/dyn/component/backend/endpoint/generate/topic/kv_metrics/ff",
        Json.mapper()
            .readTree(
                "{\"topic\":\"kv_metrics\",\"transport\":{\"kind\":\"Zmq\",\"config\":{\"endpoint\":\"tcp://10.0.0.1:5\"}}}"),
        "pod-a");
    b.channel(
        "other//kv_metrics/ee",
        Json.mapper().readTree("{\"transport\":{\"kind\":\"Nats\"}}"),
        "pod-b");
    Roster r = b.build();
    assertThat(r.workers()).containsOnlyKeys(0x1aL);
    assertThat(r.publishers()).containsExactly(java.util.Map.entry(0xffL, 0x1aL));
    assertThat(r.zmq())
        .containsExactly(
            new Roster.Channel(
                "tcp://10.0.0.1:5",
                "kv_metrics",
                0xff,
                0x1a,
                new Target("dyn", "backend", "generate")));
  }
}
