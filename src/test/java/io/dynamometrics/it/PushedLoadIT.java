package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real Dynamo releases that push their load on NATS (0.4.1 to 1.6.1), one per wire group, read by
 * the same command line as every other release: two real workers publishing values the test
 * chooses, a value republished, forward-pass metrics where the release has them, one worker stopped
 * cleanly (its series go at once) and one killed (its series go when its etcd lease expires).
 */
@ExtendWith(ConformanceTable.class)
class PushedLoadIT {
  /** One release per wire group of dynamo-events.md; {@code -Ddynamo.versions} picks others. */
  static final List<String> GROUPS =
      List.of("0.4.1", "0.6.0", "0.6.1", "0.8.1", "0.9.1", "1.0.2", "1.2.1", "1.3.1", "1.6.1");

  /** The releases whose workers publish on ZMQ by default: one per channel layout, and the last. */
  static final List<String> ZMQ_GROUPS = List.of("1.3.1", "1.4.0", "1.6.1");

  private static final Path LOGS = Jar.LOGS.resolve("pushed");

  /** The capacity the workers' model cards state (0.8.0 on, where cards are all that state it). */
  static final int CARD_BLOCKS = 1000;

  static final int CARD_SEQS = 64;

  /** The real KV router of 0.8.x and 0.9.x (KvPushRouter) on the workers' endpoint. */
  static final class Router extends RealDynamo.Script {
    Router(String version, Map<String, String> env, String ns) throws Exception {
      super(version, env, "pushed/" + ns + "-router", "push_router.py", ns, "backend", "4");
      expect("READY", Duration.ofSeconds(60));
    }

    /** Routes one request of {@code tokens}; returns the chosen worker. */
    long route(int tokens) throws Exception {
      List<Integer> ids = java.util.stream.IntStream.rangeClosed(1, tokens).boxed().toList();
      send("{\"route\":" + ids + "}");
      return Long.parseUnsignedLong(expect("ROUTED ", Duration.ofSeconds(15)).split(" ")[0]);
    }
  }

  @RegisterExtension final Started started = new Started();

  static List<String> releases() {
    return RealDynamo.chosen(GROUPS, RealDynamo.PUSHING);
  }

  static List<String> zmqReleases() {
    List<String> all = RealDynamo.PUSHING;
    return RealDynamo.chosen(ZMQ_GROUPS, all.subList(all.indexOf("1.3.0.post1"), all.size()));
  }

  /** What the test publishes, in the keys src/test/dynamo/pusher.py takes. */
  static String load(int kvActive, int decode, int used) {
    return String.format(
        "{\"load\":{\"kv_active\":%d,\"kv_total\":100,\"active\":3,\"total\":8,\"waiting\":2,"
            + "\"usage\":0.4,\"hit\":0.25,\"dp_rank\":%s,\"decode\":%d,\"used\":%d}}",
        kvActive, "null", decode, used);
  }

  /** A real worker of {@code version} running src/test/dynamo/pusher.py. */
  static final class Pusher extends RealDynamo.Script {
    final long id;
    private int sent;

    /**
     * A worker; from 0.8.0 with a model card stating {@link #CARD_BLOCKS} and {@link #CARD_SEQS}.
     */
    Pusher(String version, Map<String, String> env, String ns, String name) throws Exception {
      super(version, env, "pushed/" + ns + "-" + name, "pusher.py", args(version, ns));
      try {
        this.id = Long.parseUnsignedLong(expect("WORKER " + version + " ", Duration.ofSeconds(90)));
      } catch (Exception | AssertionError e) {
        close(); // not yet the test's to stop
        throw e;
      }
    }

    private static String[] args(String version, String ns) {
      return atLeast(version, 0, 8)
          ? new String[] {ns, "backend", Integer.toString(CARD_BLOCKS), Integer.toString(CARD_SEQS)}
          : new String[] {ns, "backend"};
    }

    void send(String command, Duration timeout) throws Exception {
      send(command);
      sent++;
      expect("PUBLISHED " + sent, timeout);
    }

    /** Closes stdin: the script shuts its runtime down, as a worker stopped on purpose does. */
    void stop() throws Exception {
      process.getOutputStream().close();
      process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  private static int[] version(String v) {
    Matcher m = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)").matcher(v);
    assertThat(m.find()).isTrue();
    return new int[] {
      Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))
    };
  }

  private static boolean atLeast(String v, int major, int minor) {
    int[] x = version(v);
    return x[0] > major || (x[0] == major && x[1] >= minor);
  }

  /** The value of {@code name} for worker {@code id}, if the service exports it. */
  static Optional<Double> value(String body, String name, long id) {
    return Exposition.parse(body).samples().stream()
        .filter(s -> s.name().equals(name))
        .filter(s -> Long.toUnsignedString(id).equals(s.labels().get("worker_id")))
        .map(Exposition.Sample::value)
        .findFirst();
  }

  /** The value of {@code name} for rank {@code rank} of worker {@code id}, if exported. */
  private static Optional<Double> value(String body, String name, long id, int rank) {
    return Exposition.parse(body).samples().stream()
        .filter(s -> s.name().equals(name))
        .filter(s -> Long.toUnsignedString(id).equals(s.labels().get("worker_id")))
        .filter(s -> Integer.toString(rank).equals(s.labels().get("dp_rank")))
        .map(Exposition.Sample::value)
        .findFirst();
  }

  /** Waits until both workers' KV blocks in use are served as expected; returns that body. */
  static String awaitBoth(int port, long a, double expectA, long b, double expectB) {
    return Jar.await(
        port,
        "/metrics",
        m ->
            value(m, "llm_kv_blocks_active", a).orElse(-1.0) == expectA
                && value(m, "llm_kv_blocks_active", b).orElse(-1.0) == expectB,
        Duration.ofSeconds(20));
  }

  /** Whether any of the layouts from 0.4 to 1.6 holds an instance key of worker {@code id}. */
  private static boolean registered(Servers.Etcd etcd, String ns, long id) throws Exception {
    String hex = Long.toHexString(id);
    for (String prefix : List.of("instances/" + ns + "/", ns + "/", "v1/instances/" + ns + "/")) {
      if (etcd.keys(prefix).stream().anyMatch(k -> k.endsWith(hex))) {
        return true;
      }
    }
    return false;
  }

  /** The sum of {@code name}'s samples, optionally only those with {@code label=value}. */
  static double sum(String body, String name, String... labelValue) {
    return Exposition.parse(body).samples().stream()
        .filter(s -> s.name().equals(name))
        .filter(s -> labelValue.length == 0 || labelValue[1].equals(s.labels().get(labelValue[0])))
        .mapToDouble(Exposition.Sample::value)
        .sum();
  }

  /**
   * Two real workers publishing chosen values on NATS are served, a republished value is served, a
   * clean stop removes a worker's series at once and a kill when its lease expires.
   */
  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("releases")
  void pushedLoad(String v) throws Exception {
    run(v, false);
  }

  /**
   * The same, with the workers on their default event plane from 1.3 on, ZMQ: each binds its own
   * publisher and advertises it in etcd, and the service connects to it; two data-parallel ranks of
   * one worker are told apart, and the publishers' connections follow the workers.
   */
  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("zmqReleases")
  void pushedLoadZmq(String v) throws Exception {
    run(v, true);
  }

  private void run(String v, boolean zmq) throws Exception {
    Optional<String> missing = RealDynamo.unavailable("runtime", v);
    assumeTrue(missing.isEmpty(), () -> "Dynamo " + v + " cannot run here: " + missing.get());
    Servers.Nats nats = started.server(Servers.Nats.modern(LOGS));
    Servers.Etcd etcd = started.server(new Servers.Etcd(LOGS));
    String ns = (zmq ? "zmq" : "push") + v.replaceAll("[^0-9]", "");
    Map<String, String> env = new HashMap<>(RealDynamo.env(nats.url(), etcd.url()));
    if (zmq) {
      // the default plane; the address each worker advertises for its publisher, which otherwise
      // is the machine's own (and tests talk only to loopback)
      env.put("DYN_EVENT_PLANE_HOST", "127.0.0.1");
    } else {
      env.put("DYN_EVENT_PLANE", "nats"); // 1.3 on: ZMQ by default
    }
    int port = Servers.freePort();
    started.jar(
        "pushed/service-" + (zmq ? "zmq-" : "") + v,
        Map.of("ETCD_ENDPOINTS", etcd.url()),
        Jar.serving(nats.url(), port, "--namespace", ns, "--etcd", "--poll-interval", "0.5"));
    Pusher a = started.server(new Pusher(v, env, ns, "a"));
    Pusher b = started.server(new Pusher(v, env, ns, "b"));
    if (zmq) {
      // ZMQ keeps nothing for a subscriber that connects later, and an idle worker publishes only
      // when its load changes: publish once the service reaches both workers' load and
      // forward-pass publishers, as a router does
      Jar.await(
          port,
          "/metrics",
          m -> sum(m, "dynamo_metrics_zmq_publishers", "state", "connected") >= 4,
          Duration.ofSeconds(20));
    }
    Duration publish = Duration.ofSeconds(10);
    a.send(load(40, 12, 23), publish);
    b.send(load(7, 5, 6), publish);

    boolean stats = !atLeast(v, 0, 8); // the whole stats report, polled or pushed as JSON
    boolean used = atLeast(v, 1, 1); // kv_used_blocks apart from active_decode_blocks
    // 0.8.x sends the worker's kv_active_blocks as active_decode_blocks; 0.9 and 1.0 publish
    // active_decode_blocks alone, 1.1 on kv_used_blocks beside it
    boolean decodeOnly = atLeast(v, 0, 9) && !used;
    double expectA = decodeOnly ? 12 : used ? 23 : 40;
    double expectB = decodeOnly ? 5 : used ? 6 : 7;
    String body = awaitBoth(port, a.id, expectA, b.id, expectB);
    if (stats) {
      assertThat(value(body, "llm_kv_blocks_total", a.id)).contains(100.0);
      assertThat(value(body, "llm_requests_active_slots", a.id)).contains(3.0);
      assertThat(value(body, "llm_requests_total_slots", a.id)).contains(8.0);
      assertThat(value(body, "llm_requests_waiting", a.id)).contains(2.0);
      assertThat(value(body, "llm_gpu_cache_usage_ratio", a.id)).contains(0.4);
      assertThat(value(body, "llm_kv_hit_rate_percent", a.id)).contains(0.25);
    } else {
      // capacity from the model cards; fields no release from 0.8 sends are absent, never 0
      body =
          Jar.await(
              port,
              "/metrics",
              m -> value(m, "llm_kv_blocks_total", a.id).isPresent(),
              Duration.ofSeconds(10));
      assertThat(value(body, "llm_kv_blocks_total", a.id)).contains((double) CARD_BLOCKS);
      assertThat(value(body, "llm_requests_total_slots", a.id)).contains((double) CARD_SEQS);
      assertThat(value(body, "llm_gpu_cache_usage_ratio", a.id)).isEmpty();
      assertThat(value(body, "llm_kv_hit_rate_percent", a.id)).isEmpty();
      if (!atLeast(v, 1, 2)) { // no forward-pass metrics: no request counts
        assertThat(value(body, "llm_requests_active_slots", a.id)).isEmpty();
        assertThat(value(body, "llm_requests_waiting", a.id)).isEmpty();
      }
    }
    assertThat(value(body, "llm_decode_blocks_active", a.id))
        .isEqualTo(used ? Optional.of(12.0) : Optional.empty());
    // both under one endpoint (discovery may name a worker's stats endpoint after its first push)
    Jar.await(
        port,
        "/metrics",
        m -> Jar.samples(m, "llm_workers").stream().anyMatch(l -> l.endsWith(" 2.0")),
        Duration.ofSeconds(10));

    // a value republished is served
    a.send(load(41, 13, 24), publish);
    double againA = decodeOnly ? 13 : used ? 24 : 41;
    Jar.await(
        port,
        "/metrics",
        m -> value(m, "llm_kv_blocks_active", a.id).orElse(-1.0) == againA,
        Duration.ofSeconds(10));

    if (zmq) {
      // a second data-parallel rank of worker b, beside its first
      b.send(load(0, 9, 31).replace("\"dp_rank\":null", "\"dp_rank\":1"), publish);
      String ranks =
          Jar.await(
              port,
              "/metrics",
              m -> value(m, "llm_kv_blocks_active", b.id, 1).orElse(-1.0) == 31,
              Duration.ofSeconds(10));
      assertThat(value(ranks, "llm_kv_blocks_active", b.id, 0)).contains(expectB);
      assertThat(sum(ranks, "dynamo_metrics_zmq_publishers", "state", "connected"))
          .as("the load (and forward-pass) publishers of both workers")
          .isGreaterThanOrEqualTo(2);
      assertThat(sum(ranks, "dynamo_metrics_zmq_publishers", "state", "unreachable")).isZero();
      // and the dashboard's API says so
      assertThat(Jar.get(port, "/api/v1/fleet").body())
          .containsPattern("\"eventPublishers\":\\{\"connected\":[1-9][0-9]*,");
    }

    if (atLeast(v, 0, 8) && !atLeast(v, 1, 0)) { // the real KV router of 0.8 and 0.9
      Router router = started.server(new Router(v, env, ns));
      int requests = 3;
      for (int i = 0; i < requests; i++) {
        assertThat(router.route(16)).isIn(a.id, b.id);
      }
      // its hit-rate events counted exactly (16 tokens in blocks of 4: 4 blocks each), and its
      // estimates of the workers' load never stand for their own values
      String counted =
          Jar.await(
              port,
              "/metrics",
              m -> sum(m, "llm_kv_hit_rate_isl_blocks_total") == 4.0 * requests,
              Duration.ofSeconds(15));
      assertThat(sum(counted, "llm_kv_hit_rate_overlap_blocks_total")).isZero();
      // the router publishes its estimates on its own schedule: give it a while (none in the window
      // is possible, and then there is nothing to keep apart)
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() < until
          && sum(
                  Jar.get(port, "/metrics").body(),
                  "dynamo_metrics_load_messages_total",
                  "result",
                  "router_estimate")
              == 0) {
        Thread.sleep(200);
      }
      String after = Jar.get(port, "/metrics").body();
      assertThat(value(after, "llm_kv_blocks_active", a.id)).contains(againA);
      assertThat(value(after, "llm_kv_blocks_active", b.id)).contains(expectB);
      router.close();
    }

    if (atLeast(v, 1, 2)) { // forward-pass metrics, linked to the worker through its channel
      a.send(
          "{\"fpm\":{\"dp_rank\":0,\"scheduled_prefill\":1,\"scheduled_decode\":3,"
              + "\"queued_prefill\":5,\"queued_decode\":7}}",
          publish);
      Jar.await(
          port,
          "/metrics",
          m ->
              value(m, "llm_requests_active_slots", a.id).orElse(-1.0) == 4
                  && value(m, "llm_requests_waiting", a.id).orElse(-1.0) == 12,
          Duration.ofSeconds(15));
    }

    // the API says where each worker's values came from (stats once discovery finds the endpoint)
    boolean polled = !atLeast(v, 0, 6) || v.equals("0.6.0"); // they answer $SRV.STATS too
    String intake =
        zmq ? "\"intake\":\"zmq\"" : polled ? "\"intake\":\"stats+nats\"" : "\"intake\":\"nats\"";
    Jar.await(port, "/api/v1/fleet", s -> s.contains(intake), Duration.ofSeconds(15));

    // a clean stop revokes the worker's lease, which deletes its instance key; the series follow
    // the key within a poll or two, never waiting for a lease to expire. How soon the release's
    // shutdown revokes varies with the machine's load, so the test waits for the key first
    assertThat(registered(etcd, ns, b.id)).as("worker b's instance key while it runs").isTrue();
    b.stop();
    org.awaitility.Awaitility.await("worker b's instance key gone after its clean stop")
        .atMost(Duration.ofSeconds(45))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> !registered(etcd, ns, b.id));
    Jar.await(
        port,
        "/metrics",
        m -> value(m, "llm_kv_blocks_active", b.id).isEmpty(),
        Duration.ofSeconds(3));

    // a crash leaves the key until its lease expires (10 s in 0.x, 30 s in 1.x)
    a.kill();
    String afterKill = Jar.get(port, "/metrics").body();
    assertThat(value(afterKill, "llm_kv_blocks_active", a.id)).isPresent();
    Jar.await(
        port,
        "/metrics",
        m -> value(m, "llm_kv_blocks_active", a.id).isEmpty(),
        Duration.ofSeconds(45));
    if (zmq) { // and the service let go of its publishers
      String end =
          Jar.await(
              port,
              "/metrics",
              m -> sum(m, "dynamo_metrics_zmq_publishers") == 0,
              Duration.ofSeconds(10));
      assertThat(sum(end, "dynamo_metrics_zmq_disconnects_total")).isPositive();
    }
  }
}
