package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynamometrics.it.RealDynamo.Load;
import io.dynamometrics.it.RealDynamo.Worker;
import io.dynamometrics.wire.ServiceNames;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Dynamo's own aggregator ({@code metrics} of ai-dynamo 0.2.1) and this service, measured the same
 * way on the same fleet of real Dynamo 0.2.1 worker processes: each runs alone for a window while
 * the harness times every poll from the {@code $SRV.STATS} request it sees on NATS to the l2c event
 * that poll publishes, reads the process's CPU from {@code /proc/<pid>/stat} and its resident
 * memory from {@code /proc/<pid>/status}. Not part of {@code bin/test} (minutes, and a machine to
 * itself): {@code mvn verify -Dit.test=RealDynamoBench [-Dbench.workers=50 -Dbench.seconds=30
 * -Dbench.warmup=20]}. Writes {@code bench-results/real-dynamo-side-by-side.json}.
 */
class RealDynamoBench {
  private static final String VERSION = "0.2.1";
  private static final String NS = "bench";
  private static final String COMPONENT = "VllmWorker";
  private static final long TICKS = 100; // USER_HZ on Linux

  @Test
  void sideBySide() throws Exception {
    assumeThat(RealDynamo.unavailable("runtime", VERSION)).isEmpty();
    assumeThat(RealDynamo.unavailable("sdk", VERSION)).isEmpty();
    int workers = Integer.getInteger("bench.workers", 50);
    int seconds = Integer.getInteger("bench.seconds", 30);
    ObjectMapper json = new ObjectMapper();
    ObjectNode out = json.createObjectNode();
    out.put("date", Instant.now().toString())
        .put("dynamo", VERSION)
        .put("workers", workers)
        .put("window_seconds", seconds)
        .put("warmup_seconds", Integer.getInteger("bench.warmup", 20));
    Started started = new Started();
    try {
      Servers.Nats nats =
          started.server(
              new Servers.Nats(
                  Jar.LOGS,
                  Servers.freePort(),
                  "-js",
                  "-sd",
                  Files.createTempDirectory("js").toString()));
      Servers.Etcd etcd = started.server(new Servers.Etcd(Jar.LOGS));
      Map<String, String> env = RealDynamo.env(nats.url(), etcd.url());
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<Worker>> starting = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        Load load = new Load(1 + i % 8, 8, 10 + i, 1000, i % 3, 0.01f * (i % 100), 0.5f);
        starting.add(pool.submit(() -> new Worker(VERSION, env, NS, COMPONENT, load)));
      }
      List<Long> workerPids = new ArrayList<>();
      for (Future<Worker> f : starting) {
        workerPids.add(started.server(f.get()).process.pid());
      }
      pool.shutdown();
      long workerRss = workerPids.stream().mapToLong(RealDynamoBench::rssBytes).sum();
      out.put("worker_processes_rss_mib_total", workerRss / 1048576.0);

      Connection client = Nats.connect(nats.url());
      List<Long> requests = new CopyOnWriteArrayList<>();
      List<Long> published = new CopyOnWriteArrayList<>();
      Dispatcher d =
          client.createDispatcher(
              m ->
                  (m.getSubject().startsWith("$SRV") ? requests : published)
                      .add(System.nanoTime()));
      d.subscribe(
          "$SRV.STATS." + ServiceNames.g2(NS, COMPONENT)); // the one name both aggregators poll
      d.subscribe("namespace." + NS + ".l2c." + COMPONENT + ".load_metrics");
      String[] common = {
        "--namespace",
        NS,
        "--component",
        COMPONENT,
        "--endpoint",
        "load_metrics",
        "--poll-interval",
        "1"
      };

      int theirPort = Servers.freePort();
      List<String> theirs =
          new ArrayList<>(
              List.of(
                  RealDynamo.binary(VERSION, "metrics").toString(),
                  "--port",
                  Integer.toString(theirPort)));
      theirs.addAll(List.of(common));
      Process their =
          Servers.start(Jar.LOGS.resolve("bench-theirs.log"), env, theirs.toArray(String[]::new));
      out.set("dynamo_metrics", measure(json, their, seconds, requests, published));
      Servers.stop(their, Duration.ofSeconds(5));

      int ourPort = Servers.freePort();
      List<String> ours =
          new ArrayList<>(
              List.of(
                  "--nats-server",
                  nats.url(),
                  "--host",
                  "127.0.0.1",
                  "--port",
                  Integer.toString(ourPort)));
      ours.addAll(List.of(common));
      Process our = Jar.start("bench-ours", ours.toArray(String[]::new));
      out.set("dynamo_metrics_java", measure(json, our, seconds, requests, published));
      Servers.stop(our, Duration.ofSeconds(5));

      // as an operator starts it: bin/dynamo-metrics and its JVM defaults, its class cache made
      // first (a launch trains it in the background; the measured launch then starts from it)
      List<String> launcher = new ArrayList<>(List.of("bin/dynamo-metrics"));
      launcher.addAll(ours);
      Process training =
          Servers.start(
              Jar.LOGS.resolve("bench-launcher-training.log"), launcher.toArray(String[]::new));
      awaitClassCache(Duration.ofSeconds(90));
      Servers.stop(training, Duration.ofSeconds(5));
      Process launched =
          Servers.start(Jar.LOGS.resolve("bench-launcher.log"), launcher.toArray(String[]::new));
      out.set("dynamo_metrics_launcher", measure(json, launched, seconds, requests, published));
      Servers.stop(launched, Duration.ofSeconds(5));
      client.close();
    } finally {
      started.close();
    }
    Path file = Path.of("bench-results/real-dynamo-side-by-side.json");
    Files.createDirectories(file.getParent());
    Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(out) + "\n");
    System.out.println(out.toPrettyString());
    assertThat(out.path("dynamo_metrics").path("polls").asInt()).isPositive();
    assertThat(out.path("dynamo_metrics_java").path("polls").asInt()).isPositive();
    assertThat(out.path("dynamo_metrics_launcher").path("polls").asInt()).isPositive();
  }

  /**
   * Warm-up, then one window: gather times (stats request to l2c), CPU per poll, resident memory.
   */
  private static ObjectNode measure(
      ObjectMapper json, Process p, int seconds, List<Long> requests, List<Long> published)
      throws Exception {
    Thread.sleep(
        Integer.getInteger("bench.warmup", 20)
            * 1000L); // started, first polls and the JIT's early work behind it
    requests.clear();
    published.clear();
    long cpu0 = cpuTicks(p.pid());
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    long cpu1 = cpuTicks(p.pid());
    double wall = (System.nanoTime() - t0) / 1e9;
    double[] g =
        RealDynamo.gatherSeconds(requests, published).stream()
            .mapToDouble(x -> x * 1000)
            .sorted()
            .toArray();
    ObjectNode n = json.createObjectNode();
    n.put("pid", p.pid()).put("polls", g.length).put("window_seconds", wall);
    n.put("gather_ms_median", g.length == 0 ? Double.NaN : g[g.length / 2]);
    n.put(
        "gather_ms_p90",
        g.length == 0 ? Double.NaN : g[(int) Math.min(g.length - 1, Math.floor(g.length * 0.9))]);
    n.put("gather_ms_max", g.length == 0 ? Double.NaN : g[g.length - 1]);
    n.put(
        "cpu_ms_per_poll", g.length == 0 ? Double.NaN : (cpu1 - cpu0) * 1000.0 / TICKS / g.length);
    n.put("cpu_percent_of_a_core", (cpu1 - cpu0) * 100.0 / TICKS / wall);
    n.put("rss_mib", rssBytes(p.pid()) / 1048576.0);
    n.put("l2c_events", published.size());
    n.set(
        "gather_ms_all",
        json.valueToTree(Arrays.stream(g).map(x -> Math.round(x * 100) / 100.0).toArray()));
    assertThat(p.isAlive()).as("the aggregator survived the window").isTrue();
    return n;
  }

  /**
   * Waits until the launcher's class cache for the current jar exists (JDK 25+) and no training
   * runs; on older JDKs the archive is written when the first run exits, so there is none to wait
   * for.
   */
  private static void awaitClassCache(Duration timeout) throws Exception {
    if (Runtime.version().feature() < 25) {
      return;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try (var files = Files.list(Path.of("target"))) {
        boolean cache = files.anyMatch(f -> f.getFileName().toString().endsWith(".aot"));
        if (cache && !Files.exists(Path.of("target/aot-training"))) {
          return;
        }
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(
        "no class cache after " + timeout + ": target/aot-training.log");
  }

  private static long cpuTicks(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
  }

  private static long rssBytes(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
      }
    } catch (Exception gone) {
      // the process ended
    }
    return 0;
  }
}
