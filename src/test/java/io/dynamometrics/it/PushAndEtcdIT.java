package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynamometrics.etcd.EtcdClient;
import io.dynamometrics.etcd.Layout;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Push mode against a real Pushgateway, and the etcd claim, failover and registrations against a
 * real etcd.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PushAndEtcdIT {
  private static final Duration WAIT = Duration.ofSeconds(25);
  private static final AtomicInteger NAMESPACES = new AtomicInteger();

  private Servers.Nats nats;
  private Servers.Etcd etcd;
  @RegisterExtension final Started started = new Started();

  @BeforeAll
  void startServers() throws Exception {
    nats = started.nats();
    etcd = started.etcd();
  }

  private static String namespace() {
    return "pe" + NAMESPACES.incrementAndGet();
  }

  private Map<String, String> etcdEnv() {
    return Map.of("ETCD_ENDPOINTS", etcd.url());
  }

  private Process mock(String ns, int workers, String... more) throws Exception {
    return started.jar(
        "pe-mock-" + ns + "-" + started.processCount(),
        etcdEnv(),
        Jar.mockWorkers(ns, workers, nats.url(), 100 + started.processCount(), more));
  }

  private Process aggregator(String name, int port, String ns, String... more) throws Exception {
    return started.jar(name, etcdEnv(), Jar.watching(ns, nats.url(), port, more));
  }

  private static String gatewayMetrics(int port) throws Exception {
    return Jar.get(port, "/metrics").body();
  }

  private static long pushedWorkers(String body, String instance) {
    return Jar.samples(body, "llm_kv_blocks_active").stream()
        .filter(
            l ->
                l.contains("instance=\"" + instance + "\"")
                    && l.contains("job=\"dynamo_push_metrics\""))
        .count();
  }

  @Test
  void pushedGroupShowsExactlyTheLiveWorkersAndIsDeletedOnShutdown() throws Exception {
    String ns = namespace();
    int gatewayPort = Servers.freePort();
    Servers.Pushgateway gateway = new Servers.Pushgateway(Jar.LOGS, gatewayPort);
    try {
      mock(ns, 1);
      Process leaving = mock(ns, 2);
      int port = Servers.freePort();
      Process agg =
          aggregator(
              "pe-push-" + ns,
              port,
              ns,
              "--push",
              "--push-url",
              gateway.url(),
              "--push-interval",
              "0.3",
              "--push-instance",
              ns);
      Jar.await(gatewayPort, "/metrics", b -> pushedWorkers(b, ns) == 3, WAIT);
      leaving.destroyForcibly().waitFor();
      Jar.await(gatewayPort, "/metrics", b -> pushedWorkers(b, ns) == 1, WAIT);
      agg.destroy();
      assertThat(agg.waitFor(5, TimeUnit.SECONDS)).isTrue();
      assertThat(gatewayMetrics(gatewayPort)).doesNotContain("instance=\"" + ns + "\"");
    } finally {
      gateway.close();
    }
  }

  @Test
  void pushesResumeAfterTheGatewayCameBackAndFailuresWereCounted() throws Exception {
    String ns = namespace();
    int gatewayPort = Servers.freePort();
    int port = Servers.freePort();
    mock(ns, 2);
    Servers.Pushgateway gateway = new Servers.Pushgateway(Jar.LOGS, gatewayPort);
    aggregator(
        "pe-push-restart-" + ns,
        port,
        ns,
        "--push",
        "--push-url",
        gateway.url(),
        "--push-interval",
        "0.2",
        "--push-instance",
        ns);
    Jar.await(gatewayPort, "/metrics", b -> pushedWorkers(b, ns) == 2, WAIT);
    gateway.close();
    Jar.await(
        port,
        "/metrics",
        b ->
            Jar.samples(b, "dynamo_metrics_push_total").stream()
                .anyMatch(l -> l.contains("failure") && !l.endsWith(" 0.0")),
        WAIT);
    Thread.sleep(3000); // away for a while: backoff grows, the poll loop goes on
    assertThat(Jar.samples(Jar.get(port, "/metrics").body(), "llm_workers"))
        .singleElement()
        .asString()
        .endsWith(" 2.0");
    Servers.Pushgateway back = new Servers.Pushgateway(Jar.LOGS, gatewayPort);
    try {
      Jar.await(gatewayPort, "/metrics", b -> pushedWorkers(b, ns) == 2, WAIT);
    } finally {
      back.close();
    }
  }

  @Test
  void theSingletonIsClaimedAndASecondInstanceIsRefusedWithAClearLine() throws Exception {
    String ns = namespace();
    int port = Servers.freePort();
    aggregator("pe-claim-" + ns, port, ns, "--etcd");
    Jar.await(port, "/metrics", b -> b.contains("dynamo_metrics_leader 1.0"), WAIT);
    EtcdClient client = new EtcdClient(List.of(URI.create(etcd.url())), null, null, null);
    assertThat(client.get(Layout.INSTANCES.singleton(ns)))
        .isEqualTo("{\"component_name\":\"MyComponent\",\"endpoint_name\":\"my_endpoint\"}");
    Jar.Result second =
        Jar.run(etcdEnv(), Jar.watching(ns, nats.url(), Servers.freePort(), "--etcd"));
    assertThat(second.exitCode()).isEqualTo(2);
    assertThat(second.output())
        .contains("another aggregator holds instances/" + ns + "/count/instance")
        .contains("--standby")
        .doesNotContain("\tat ");
  }

  @Test
  void aStandbyTakesOverWithinOneTtlAndAPollAfterTheLeaderIsKilled() throws Exception {
    String ns = namespace();
    mock(ns, 2);
    int leaderPort = Servers.freePort();
    int standbyPort = Servers.freePort();
    Process leader = aggregator("pe-leader-" + ns, leaderPort, ns, "--etcd", "--standby");
    Jar.await(
        leaderPort,
        "/metrics",
        b -> b.contains("dynamo_metrics_leader 1.0") && Jar.samples(b, "llm_workers").size() == 1,
        WAIT);
    aggregator("pe-standby-" + ns, standbyPort, ns, "--etcd", "--standby");
    String standby =
        Jar.await(
            standbyPort,
            "/metrics",
            b ->
                b.contains("dynamo_metrics_leader 0.0")
                    && b.contains("dynamo_metrics_nats_connected 1.0"),
            WAIT);
    assertThat(standby).doesNotContain("llm_kv_blocks_active").doesNotContain("llm_workers{");
    assertThat(Jar.get(standbyPort, "/api/v1/fleet").body()).contains("\"mode\":\"standby\"");

    leader.destroyForcibly().waitFor(); // kill -9: the lease must expire by itself
    long killed = System.nanoTime();
    Jar.await(
        standbyPort,
        "/metrics",
        b ->
            b.contains("dynamo_metrics_leader 1.0")
                && Jar.samples(b, "llm_kv_blocks_active").size() == 2,
        Duration.ofSeconds(15));
    Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
    System.out.println(
        "standby took over " + takeover.toMillis() + " ms after the leader was killed");
  }

  @Test
  void registeredWorkersBoundTheGatherAndDeregisteredOnesLeaveAtOnce() throws Exception {
    String ns = namespace();
    mock(ns, 1, "--etcd");
    Process leaving = mock(ns, 2, "--etcd");
    int port = Servers.freePort();
    // A huge staleness window: only the registrations can make workers leave quickly.
    aggregator("pe-registrations-" + ns, port, ns, "--etcd", "--staleness", "1000");
    // A worker may answer in the same poll that read the registrations just before it registered:
    // wait for a poll that has seen both.
    String body =
        Jar.await(
            port,
            "/metrics",
            b ->
                Jar.samples(b, "llm_kv_blocks_active").size() == 3
                    && Jar.samples(b, "llm_workers_registered").stream()
                        .anyMatch(l -> l.endsWith(" 3.0")),
            WAIT);
    assertThat(Jar.samples(body, "llm_workers_registered"))
        .singleElement()
        .asString()
        .endsWith(" 3.0");
    leaving.destroy(); // SIGTERM: the mock worker revokes its leases, deleting its registrations
    assertThat(leaving.waitFor(5, TimeUnit.SECONDS)).isTrue();
    body =
        Jar.await(
            port,
            "/metrics",
            b -> Jar.samples(b, "llm_kv_blocks_active").size() == 1,
            Duration.ofSeconds(5));
    assertThat(Jar.samples(body, "llm_workers_registered"))
        .singleElement()
        .asString()
        .endsWith(" 1.0");
  }

  @Test
  void theLeaderKeepsOrRegainsLeadershipWhenEtcdRestarts() throws Exception {
    String ns = namespace();
    mock(ns, 1);
    int port = Servers.freePort();
    aggregator("pe-etcd-restart-" + ns, port, ns, "--etcd");
    Jar.await(port, "/metrics", b -> b.contains("dynamo_metrics_leader 1.0"), WAIT);
    etcd.restart(Duration.ofSeconds(3));
    Jar.await(
        port,
        "/metrics",
        b ->
            b.contains("dynamo_metrics_leader 1.0")
                && Jar.samples(b, "llm_kv_blocks_active").size() == 1,
        WAIT);
    EtcdClient client = new EtcdClient(List.of(URI.create(etcd.url())), null, null, null);
    await("the claim is held again")
        .atMost(WAIT)
        .until(() -> client.get(Layout.INSTANCES.singleton(ns)) != null);
  }
}
