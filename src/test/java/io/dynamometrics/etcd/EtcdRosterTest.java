package io.dynamometrics.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.wire.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The roster read from the etcd keyspace of real releases (fixtures/dynamo-events, dumped while a
 * worker ran): every layout of instance keys, both event-channel layouts, model cards.
 */
class EtcdRosterTest {
  /** Captures of the real releases (see the README there). */
  static final Path EVENTS = Path.of("src/test/resources/fixtures/dynamo-events");

  /** A dump as the keys etcd would return, prefix by prefix. */
  static EtcdRoster.Keys dump(String file) throws IOException {
    JsonNode all = Json.mapper().readTree(EVENTS.resolve(file).toFile());
    List<EtcdClient.KeyValue> kvs = new ArrayList<>();
    for (JsonNode n : all.isArray() ? all : all.path("kvs")) {
      String value =
          n.has("value_b64")
              ? new String(
                  Base64.getDecoder().decode(n.path("value_b64").asText()), StandardCharsets.UTF_8)
              : n.path("value").toString();
      kvs.add(
          new EtcdClient.KeyValue(
              n.path("key").asText(), value, Long.parseUnsignedLong(n.path("lease").asText("0"))));
    }
    return prefix -> kvs.stream().filter(kv -> kv.key().startsWith(prefix)).toList();
  }

  @Test
  void aStatsReleaseIsPolledUnderItsLoadMetricsEndpoint() throws IOException {
    Roster r = new EtcdRoster(dump("0.4.1/etcd.json"), "dyn").roster();
    assertThat(r.workers()).containsOnlyKeys(0x7d7ba2450f8fba09L);
    Target t = new Target("dyn", "backend", "load_metrics");
    assertThat(r.polled()).containsExactly(t);
    assertThat(r.target(0x7d7ba2450f8fba09L, x -> true)).isEqualTo(t);
  }

  @Test
  void v1InstancesAreWorkersShownUnderGenerate() throws IOException {
    Roster r = new EtcdRoster(dump("0.8.1/etcd.json"), "dyn").roster();
    assertThat(r.workers()).containsOnlyKeys(0x7d7ba2450f8fba43L);
    assertThat(r.polled()).isEmpty();
    assertThat(r.target(0x7d7ba2450f8fba43L, x -> true))
        .isEqualTo(new Target("dyn", "backend", "generate"));
    assertThat(r.target(0x7d7ba2450f8fba43L, x -> x.component().equals("other"))).isNull();
  }

  @Test
  void channelsAndCardsBelongToTheWorkerOnTheirLease() throws IOException {
    Roster r = new EtcdRoster(dump("0.9.1-router/etcd.json"), "dyn").roster();
    long worker = 0x7d7ba2450f8fba62L;
    assertThat(r.workers()).containsOnlyKeys(worker);
    assertThat(r.workerOf(worker)).as("its kv_metrics channel, old layout").isEqualTo(worker);
    assertThat(r.workers().get(worker).capacity()).isEqualTo(new Roster.Capacity(100, 8));
  }

  @Test
  void aRouterRegisteredAsKvRouterIsNotAWorker() throws IOException {
    EtcdRoster.Keys keys =
        prefix ->
            List.of(
                    new EtcdClient.KeyValue("v1/instances/dyn/kv-router/generate/a1", "{}", 0xa1),
                    new EtcdClient.KeyValue("v1/instances/dyn/backend/generate/b2", "{}", 0xb2))
                .stream()
                .filter(kv -> kv.key().startsWith(prefix))
                .toList();
    assertThat(new EtcdRoster(keys, "dyn").roster().workers()).containsOnlyKeys(0xb2L);
  }

  @Test
  void aForwardPassPublisherIsLinkedToItsWorkerThroughTheLease() throws IOException {
    Roster r = new EtcdRoster(dump("1.3.1/etcd-while-running-fpm-default.json"), "dyn1x").roster();
    long publisher = Long.parseUnsignedLong("a324e5a50eaaeda3", 16); // >= 2^63
    assertThat(r.workerOf(publisher)).isEqualTo(0x5315a24510bf5b85L);
  }

  @Test
  void theEndpointScopedChannelLayoutIsRead() throws IOException {
    Roster r = new EtcdRoster(dump("1.6.1/etcd-while-running-default.json"), "dyn1x").roster();
    assertThat(r.workerOf(Long.parseUnsignedLong("63f824f7ee3ae", 16)))
        .isEqualTo(0x5315a24510bf5b67L);
  }

  @Test
  void zmqChannelsCarryTheirAddressTopicPublisherAndWorkerInBothLayouts() throws IOException {
    Roster old =
        new EtcdRoster(dump("1.3.1/etcd-while-running-fpm-default.json"), "dyn1x").roster();
    assertThat(old.zmq())
        .contains(
            new Roster.Channel(
                "tcp://192.0.2.2:42263",
                "forward-pass-metrics",
                Long.parseUnsignedLong("a324e5a50eaaeda3", 16),
                0x5315a24510bf5b85L,
                null)); // the old layout names no endpoint
    Roster scoped = new EtcdRoster(dump("1.4.0/etcd-while-running-default.json"), "dyn1x").roster();
    assertThat(scoped.zmq())
        .containsExactlyInAnyOrder(
            new Roster.Channel(
                "tcp://192.0.2.2:34815",
                "kv_metrics",
                0xb620e4fd61418L,
                0x5315a24510bf5ab9L,
                new Target("dyn1x", "backend", "generate")),
            new Roster.Channel(
                "tcp://192.0.2.2:39897",
                "kv-events",
                0x1d3a3fd0ebd6e3L,
                0x5315a24510bf5ab9L,
                new Target("dyn1x", "backend", "generate")));
    // a NATS channel has no address to connect to
    assertThat(new EtcdRoster(dump("0.9.1-router/etcd.json"), "dyn").roster().zmq()).isEmpty();
  }
}
