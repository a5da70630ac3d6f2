package io.dynamometrics.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Real NVIDIA Dynamo releases from PyPI, installed by {@code bin/dynamo-releases} into one
 * virtualenv each under {@code target/dynamo/}: worker and router processes driven by the small
 * Python scripts in {@code src/test/dynamo/}, and the prebuilt {@code metrics} and {@code
 * mock_worker} binaries of {@code ai-dynamo}.
 */
final class RealDynamo {
  static final Path DIR = Path.of("target/dynamo");
  static final Path SCRIPTS = Path.of("src/test/dynamo");

  /** Every release of ai-dynamo-runtime on PyPI, oldest first (39). */
  static final List<String> ALL =
      List.of(
          "0.1.1",
          "0.2.0",
          "0.2.1",
          "0.3.0",
          "0.3.1",
          "0.3.2",
          "0.4.0",
          "0.4.0.post0",
          "0.4.1",
          "0.5.0",
          "0.5.1",
          "0.6.0",
          "0.6.1",
          "0.7.0",
          "0.7.0.post1",
          "0.7.1",
          "0.8.0",
          "0.8.1",
          "0.8.1.post1",
          "0.8.1.post2",
          "0.8.1.post3",
          "0.9.0",
          "0.9.1",
          "1.0.0",
          "1.0.1",
          "1.0.2",
          "1.1.0",
          "1.1.1",
          "1.2.0.post1",
          "1.2.1",
          "1.3.0.post1",
          "1.3.1",
          "1.4.0",
          "1.4.1",
          "1.4.2",
          "1.5.0",
          "1.5.1",
          "1.6.0",
          "1.6.1");

  /** Releases that only answer stats (their load is polled): the polling suite's share. */
  static final List<String> POLLED = ALL.subList(0, ALL.indexOf("0.4.1"));

  /** Releases that push their load (0.4.1 on). */
  static final List<String> PUSHING = ALL.subList(ALL.indexOf("0.4.1"), ALL.size());

  /** The polled releases the suite runs by default, oldest first. */
  static final List<String> RUNTIMES =
      List.of("0.1.1", "0.2.0", "0.2.1", "0.3.0", "0.3.1", "0.3.2", "0.4.0");

  /**
   * Releases whose {@code KvRouter} is reachable from Python (from 0.3.2 it lives in the HTTP
   * frontend only).
   */
  static final List<String> ROUTERS = List.of("0.1.1", "0.2.0", "0.2.1", "0.3.0", "0.3.1");

  /**
   * Releases of {@code ai-dynamo} whose {@code metrics} and {@code mock_worker} binaries the suite
   * runs (0.4.0 ships none).
   */
  static final List<String> ORACLES = List.of("0.1.1", "0.2.0", "0.2.1", "0.3.0", "0.3.1", "0.3.2");

  private RealDynamo() {}

  /**
   * The releases chosen with {@code -Ddynamo.versions=a,b} (default: all) that are also in {@code
   * among}.
   */
  static List<String> chosen(List<String> among) {
    return chosen(among, among);
  }

  /**
   * The releases chosen with {@code -Ddynamo.versions=a,b} that are in {@code eligible}, or {@code
   * defaults} when none are chosen.
   */
  static List<String> chosen(List<String> defaults, List<String> eligible) {
    String wanted = System.getProperty("dynamo.versions", "").trim();
    if (wanted.isEmpty()) {
      return defaults;
    }
    List<String> picked = List.of(wanted.split("\\s*,\\s*"));
    return eligible.stream().filter(picked::contains).toList();
  }

  /** Why {@code kind-version} cannot run here, or empty when its virtualenv is complete. */
  static Optional<String> unavailable(String kind, String version) throws IOException {
    Path venv = DIR.resolve(kind + "-" + version);
    if (Files.exists(venv.resolve(".complete"))) {
      return Optional.empty();
    }
    Path failed = DIR.resolve(kind + "-" + version + ".failed");
    return Optional.of(
        Files.exists(failed)
            ? "pip could not install it: " + Files.readString(failed).strip()
            : venv + " is missing: run bin/dynamo-releases " + version);
  }

  static Path python(String version) {
    return DIR.resolve("runtime-" + version + "/bin/python").toAbsolutePath();
  }

  static Path binary(String sdkVersion, String name) {
    return DIR.resolve(
            "sdk-" + sdkVersion + "/lib/python3.11/site-packages/dynamo/sdk/cli/bin/" + name)
        .toAbsolutePath();
  }

  /** The environment every Dynamo process reads, pointing at the test's servers. */
  static Map<String, String> env(String natsUrl, String etcdUrl) {
    return Map.of(
        "NATS_SERVER",
        natsUrl,
        "ETCD_ENDPOINTS",
        etcdUrl,
        "DYN_RUNTIME_NUM_WORKER_THREADS",
        "2",
        "DYN_LOG",
        "warn",
        "PYTHONUNBUFFERED",
        "1");
  }

  /**
   * Seconds from each aggregator stats request seen on NATS to the l2c event that poll published
   * (the first one before the next request): a gather, timed from outside the aggregator.
   */
  static List<Double> gatherSeconds(List<Long> requestNanos, List<Long> publishedNanos) {
    List<Long> req = new ArrayList<>(requestNanos);
    List<Long> pub = new ArrayList<>(publishedNanos);
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < req.size(); i++) {
      long r = req.get(i);
      long next = i + 1 < req.size() ? req.get(i + 1) : Long.MAX_VALUE;
      pub.stream()
          .filter(x -> x > r && x < next)
          .findFirst()
          .ifPresent(x -> out.add((x - r) / 1e9));
    }
    return out;
  }

  /** What a worker publishes: the seven ForwardPassMetrics fields. */
  record Load(
      long active,
      long total,
      long kvActive,
      long kvTotal,
      long waiting,
      float usage,
      float hitRate) {
    String json() {
      return String.format(
          Locale.ROOT,
          "{\"request_active_slots\":%d,\"request_total_slots\":%d,\"kv_active_blocks\":%d,"
              + "\"kv_total_blocks\":%d,\"num_requests_waiting\":%d,\"gpu_cache_usage_perc\":%s,\"gpu_prefix_cache_hit_rate\":%s}",
          active,
          total,
          kvActive,
          kvTotal,
          waiting,
          Float.toString(usage),
          Float.toString(hitRate));
    }
  }

  /**
   * A Python process of a Dynamo release that takes JSON commands on stdin and answers in lines on
   * stdout.
   */
  static class Script implements AutoCloseable {
    final Process process;
    private final Writer in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path log;

    Script(String version, Map<String, String> env, String logName, String script, String... args)
        throws IOException {
      this(command(version, script, args), env, logName);
    }

    Script(List<String> command, Map<String, String> env, String logName) throws IOException {
      this.log = Jar.LOGS.resolve(logName + ".log");
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(command).redirectError(log.toFile());
      pb.environment().putAll(env);
      this.process = pb.start();
      this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                  }
                } catch (IOException ended) {
                  // the process is gone
                }
              },
              logName + "-stdout");
      reader.setDaemon(true);
      reader.start();
    }

    private static List<String> command(String version, String script, String... args) {
      List<String> cmd =
          new ArrayList<>(List.of(python(version).toString(), SCRIPTS.resolve(script).toString()));
      cmd.addAll(List.of(args));
      return cmd;
    }

    void send(String json) throws IOException {
      in.write(json + "\n");
      in.flush();
    }

    /**
     * The next line on stdout, which must start with {@code prefix}; fails with the process's log
     * otherwise.
     */
    String expect(String prefix, Duration timeout) throws Exception {
      String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (line == null || !line.startsWith(prefix)) {
        throw new AssertionError(
            "expected '"
                + prefix
                + "' from "
                + log
                + ", got "
                + (line == null ? "nothing" : "'" + line + "'")
                + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")")
                + "; its log ends:\n"
                + tail());
      }
      return line.substring(prefix.length()).strip();
    }

    String tail() throws IOException {
      List<String> all = Files.exists(log) ? Files.readAllLines(log) : List.of();
      return String.join("\n", all.subList(Math.max(0, all.size() - 15), all.size()));
    }

    /** SIGKILL, as a crashed or OOM-killed worker dies: no deregistration, no goodbye. */
    void kill() throws InterruptedException {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGKILL to each of {@code scripts} before waiting for any: they die together. */
    static void killTogether(Script... scripts) throws InterruptedException {
      for (Script s : scripts) {
        s.process.destroyForcibly();
      }
      for (Script s : scripts) {
        s.process.waitFor(10, TimeUnit.SECONDS);
      }
    }

    @Override
    public void close() {
      Servers.halt(process);
    }
  }

  /** One real worker (one runtime, one lease, so one worker id) serving {@code load_metrics}. */
  static final class Worker extends Script {
    final String version;
    final long id;
    private int published;

    Worker(String version, Map<String, String> env, String namespace, String component, Load first)
        throws Exception {
      super(
          version,
          env,
          "dynamo-" + version + "-" + namespace + "-" + component + "-" + System.nanoTime(),
          "worker.py",
          namespace,
          component);
      this.version = version;
      this.id = Long.parseLong(expect("WORKER " + version + " ", Duration.ofSeconds(60)));
      publish(first);
    }

    /**
     * Publishes {@code load} and returns once the runtime took it (the next $SRV.STATS answers with
     * it).
     */
    void publish(Load load) throws Exception {
      send(load.json());
      published++;
      expect("PUBLISHED " + published, Duration.ofSeconds(10));
    }
  }

  /**
   * The real KV router of a release, on the workers' component: each schedule publishes one
   * KVHitRateEvent.
   */
  static final class Router extends Script {
    Router(
        String version, Map<String, String> env, String namespace, String component, int blockSize)
        throws Exception {
      super(
          version,
          env,
          "router-" + version + "-" + namespace,
          "router.py",
          namespace,
          component,
          Integer.toString(blockSize));
      expect("READY", Duration.ofSeconds(60));
    }

    /** A real KvEventPublisher announces that {@code worker} cached {@code tokens}. */
    void store(long worker, List<Integer> tokens) throws Exception {
      send("{\"store\":" + worker + ",\"tokens\":" + tokens + "}");
      expect("STORED " + worker, Duration.ofSeconds(10));
    }

    /** Routes one request; returns the worker id Dynamo chose. */
    long schedule(List<Integer> tokens) throws Exception {
      send("{\"schedule\":" + tokens + "}");
      return Long.parseLong(expect("SCHEDULED ", Duration.ofSeconds(10)));
    }
  }
}
