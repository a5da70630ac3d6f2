package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * NATS and etcd as large fleets run them: three routed nats-servers, three etcd members; the server
 * or member that matters is killed (SIGKILL) while the service runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CONNECTED =
      Pattern.compile("(?:re)?connected to NATS at nats://127\\.0\\.0\\.1:(\\d+)");
  @RegisterExtension final Started started = new Started();

  /**
   * One look at the fleet API: when, whether NATS was up, and every worker's stats age by
   * component.
   */
  private record Sample(
      long atNanos, boolean connected, long polls, Map<String, List<Double>> ages) {
    int workers() {
      return ages.values().stream().mapToInt(List::size).sum();
    }
  }

  private static Sample sample(int port) throws Exception {
    JsonNode fleet = JSON.readTree(Jar.get(port, "/api/v1/fleet").body());
    Map<String, List<Double>> ages = new java.util.TreeMap<>();
    for (JsonNode e : fleet.path("endpoints")) {
      List<Double> a = new ArrayList<>();
      e.path("workers").forEach(w -> a.add(w.path("statsAgeSeconds").asDouble()));
      ages.put(e.path("component").asText(), a);
    }
    JsonNode status = fleet.path("status");
    return new Sample(
        System.nanoTime(),
        status.path("transportConnected").asBoolean(),
        status.path("polls").asLong(),
        ages);
  }

  /** Samples the fleet every 50 ms on a thread until {@code stop} is set. */
  private static Thread sampler(int port, List<Sample> into, AtomicBoolean stop) {
    return Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              while (!stop.get()) {
                try {
                  into.add(sample(port));
                  Thread.sleep(50); // the sampling period
                } catch (InterruptedException e) {
                  return;
                } catch (Exception e) {
                  // a refused connection is simply a gap in the samples
                }
              }
            });
  }

  private static int connectedPort(Path log) throws Exception {
    Matcher m = CONNECTED.matcher(Files.readString(log));
    int port = -1;
    while (m.find()) {
      port = Integer.parseInt(m.group(1));
    }
    return port;
  }

  @Test
  void killingTheNatsServerInUseMovesTheServiceToAnotherAndNoWorkerIsLost() throws Exception {
    Servers.NatsCluster cluster = started.server(new Servers.NatsCluster(Jar.LOGS, 3));
    String ns = "cluster-nats";
    for (int i = 0; i < 3; i++) { // two workers on each server, one component per server
      started.jar(
          "cluster-mock-" + i,
          Jar.mockWorkers(ns, 2, cluster.servers.get(i).url(), 10 + i, "--component", "W" + i));
    }
    int port = Servers.freePort();
    double interval = 1.0;
    started.jar(
        "cluster-agg",
        Jar.serving(cluster.urls(), port, "--namespace", ns, "--poll-interval", "" + interval));
    Path log = Jar.LOGS.resolve("cluster-agg.log");
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> sample(port).workers() == 6);
    int inUse = connectedPort(log);
    int index = -1;
    for (int i = 0; i < 3; i++) {
      if (cluster.servers.get(i).port == inUse) {
        index = i;
      }
    }
    assertThat(index).as("the service logs the server it is connected to").isNotNegative();

    List<Sample> samples = new CopyOnWriteArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    Thread t = sampler(port, samples, stop);
    Thread.sleep(2000); // a steady state before the kill
    long killedAt = System.nanoTime();
    long killedAtMillis = System.currentTimeMillis();
    cluster.servers.get(index).kill();
    Thread.sleep(8000); // eight polls after it
    stop.set(true);
    t.join();

    int killed = index;
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> connectedPort(log) > 0 && connectedPort(log) != inUse);
    assertThat(Files.readString(log)).contains("lost NATS at").contains("reconnected to NATS at");
    // on another server within two seconds: the log's time of the reconnect against the kill's
    Matcher m =
        Pattern.compile("(\\S+) INFO  NatsTransport: reconnected to NATS at ")
            .matcher(Files.readString(log));
    assertThat(m.find()).isTrue();
    Duration backAfter =
        Duration.between(
            java.time.Instant.ofEpochMilli(killedAtMillis), java.time.Instant.parse(m.group(1)));
    assertThat(backAfter).isLessThan(Duration.ofSeconds(2));
    List<Sample> after = samples.stream().filter(s -> s.atNanos() > killedAt).toList();
    // every worker keeps being read: none ever leaves the fleet
    assertThat(after).allSatisfy(s -> assertThat(s.workers()).as("workers at %s", s).isEqualTo(6));
    // the service missed at most one poll: workers on the surviving servers are never older than
    // one missed poll
    for (int i = 0; i < 3; i++) {
      if (i == killed) {
        continue;
      }
      String component = "W" + i;
      double oldest =
          after.stream()
              .flatMap(s -> s.ages().get(component).stream())
              .mapToDouble(d -> d)
              .max()
              .orElseThrow();
      System.out.printf(
          "ClusterIT: on another NATS server %d ms after the kill; oldest stats of %s: %.3f s%n",
          backAfter.toMillis(), component, oldest);
      assertThat(oldest).as("oldest stats of %s", component).isLessThanOrEqualTo(interval * 1.5);
    }
    // and the workers of the killed server, which moved too, are fresh again at the end
    assertThat(after.get(after.size() - 1).ages().get("W" + killed))
        .hasSize(2)
        .allSatisfy(a -> assertThat(a).isLessThanOrEqualTo(interval * 1.5));
  }

  @Test
  void killingTheEtcdLeaderNeverMakesTwoLeadersAndRegistrationsKeepBeingRead() throws Exception {
    Servers.EtcdCluster etcd = started.server(new Servers.EtcdCluster(Jar.LOGS, 3));
    Servers.Nats nats = started.nats();
    String ns = "cluster-etcd";
    Map<String, String> env = Map.of("ETCD_ENDPOINTS", etcd.urls());
    started.jar("cluster-etcd-mock", env, Jar.mockWorkers(ns, 3, nats.url(), 7, "--etcd"));
    int a = Servers.freePort();
    int b = Servers.freePort();
    started.jar("cluster-etcd-a", env, Jar.watching(ns, nats.url(), a, "--etcd", "--standby"));
    Jar.await(
        a,
        "/metrics",
        m -> Jar.samples(m, "dynamo_metrics_leader").contains("dynamo_metrics_leader 1.0"),
        Duration.ofSeconds(30));
    started.jar("cluster-etcd-b", env, Jar.watching(ns, nats.url(), b, "--etcd", "--standby"));
    Jar.await(b, "/readyz", x -> true, Duration.ofSeconds(30));
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> registered(a) == 3);
    int leaderMember = etcd.leader();
    assertThat(leaderMember).as("the etcd cluster has a leader").isNotNegative();

    List<long[]> leaders = new CopyOnWriteArrayList<>(); // {time, a leads, b leads}
    AtomicBoolean stop = new AtomicBoolean();
    Thread t =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  while (!stop.get()) {
                    try {
                      leaders.add(new long[] {System.nanoTime(), leads(a), leads(b)});
                      Thread.sleep(50); // the sampling period
                    } catch (InterruptedException e) {
                      return;
                    } catch (Exception e) {
                      // a gap in the samples
                    }
                  }
                });
    etcd.kill(leaderMember);
    await().atMost(Duration.ofSeconds(10)).until(() -> etcd.leader() >= 0);
    Thread.sleep(12_000); // longer than the claim's 10 s lease: a lost lease would show
    stop.set(true);
    t.join();

    assertThat(leaders).hasSizeGreaterThan(100);
    assertThat(leaders).noneSatisfy(s -> assertThat(s[1] + s[2]).isEqualTo(2));
    long[] last = leaders.get(leaders.size() - 1);
    assertThat(last[1] + last[2]).as("exactly one leads at the end").isEqualTo(1);
    int leaderPort = last[1] == 1 ? a : b;
    // registrations are still read through the surviving members
    await().atMost(Duration.ofSeconds(10)).until(() -> registered(leaderPort) == 3);
    assertThat(sample(leaderPort).workers()).isEqualTo(3);
  }

  private static long leads(int port) throws Exception {
    return Jar.samples(Jar.get(port, "/metrics").body(), "dynamo_metrics_leader")
            .contains("dynamo_metrics_leader 1.0")
        ? 1
        : 0;
  }

  private static int registered(int port) throws Exception {
    List<String> s = Jar.samples(Jar.get(port, "/metrics").body(), "llm_workers_registered");
    return s.isEmpty()
        ? -1
        : (int) Double.parseDouble(s.get(0).substring(s.get(0).lastIndexOf(' ') + 1));
  }
}
