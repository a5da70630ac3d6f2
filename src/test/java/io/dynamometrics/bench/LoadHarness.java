package io.dynamometrics.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * End-to-end load: a real nats-server, mock-worker processes (up to 2,500 workers each) and the
 * aggregator as its own process, polled every second. For each fleet size it measures the gather
 * time of every poll, whether every poll gathered every worker, the aggregator's CPU time per poll
 * and its retained heap per worker (after a forced GC), and writes them with a plot.
 */
public final class LoadHarness {
  private static final Logger LOG = Logger.getLogger(LoadHarness.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int WORKERS_PER_PROCESS = 2500;

  /** Dynamo's aggregator always waits its full 1 s timeout: its gather time, by design. */
  static final double REFERENCE_GATHER_MS = 1000;

  /** What one fleet size gave. Times in milliseconds. */
  public record Run(
      int workers,
      int polls,
      double completeShare,
      double gatherMedianMs,
      double gatherP90Ms,
      double gatherMaxMs,
      double lingerMedianMs,
      double lingerP90Ms,
      double cpuPerPollMs,
      double cpuShareOfCore,
      double heapPerWorkerBytes) {}

  private final Path out;
  private final Duration measure;
  private final Duration warmup;
  private final boolean profile;
  private final String jvmOption;
  private final HttpClient http = HttpClient.newHttpClient();

  /**
   * @param warmup how long each fleet size runs, once every worker is seen, before it is measured
   * @param profile record a JFR profile of each aggregator run next to its log
   * @param jvmOption one more JVM option for the measured aggregator (as {@code
   *     -XX:TieredStopAtLevel=1}), or {@code null}
   */
  public LoadHarness(
      Path out, Duration measure, Duration warmup, boolean profile, String jvmOption) {
    this.out = out;
    this.measure = measure;
    this.warmup = warmup;
    this.profile = profile;
    this.jvmOption = jvmOption;
  }

  /** A nats-server of its own for one measurement. */
  private record Nats(Process process, String url) {}

  private Nats startNats(String name) throws Exception {
    int port = Processes.freePort();
    Process p = Processes.natsServer(out.resolve("logs").resolve(name + ".log"), port);
    return new Nats(p, "nats://127.0.0.1:" + port);
  }

  public List<Run> run(int[] sizes) throws Exception {
    Path logs = out.resolve("logs");
    Nats natsServer = startNats("nats");
    Process nats = natsServer.process();
    List<Run> runs = new ArrayList<>();
    try {
      String url = natsServer.url();
      double baselineHeap = baselineHeap(url, logs);
      for (int size : sizes) {
        runs.add(measure(size, url, logs, baselineHeap));
        write(runs);
      }
    } finally {
      Processes.stop(nats);
    }
    return runs;
  }

  /**
   * Events accepted per second by the aggregator and by a bare jnats subscriber, from one flood.
   */
  public record Ingest(
      double seconds,
      long sent,
      long bareReceived,
      long accepted,
      long droppedByAggregator,
      double ratio,
      double workersServed,
      double heapPerWorkerBytes) {}

  /**
   * Floods {@code namespace.bench.kv-hit-rate} from another process while the aggregator and a bare
   * jnats subscriber that only counts listen to the same server.
   */
  public Ingest ingest(int seconds) throws Exception {
    return flood(
        seconds,
        "namespace.bench.kv-hit-rate",
        "dynamo_metrics_events_total",
        "dynamo_metrics_events_dropped_total",
        "ingest.json",
        null);
  }

  /**
   * The same with the pushed load of 10,000 workers (msgpack envelopes on {@code
   * namespace.bench.kv_metrics}): messages decoded against messages a bare subscriber received, and
   * the aggregator's live heap per worker once all are served.
   */
  public Ingest pushIngest(int seconds) throws Exception {
    return flood(
        seconds,
        "namespace.bench.kv_metrics",
        "dynamo_metrics_pushed_messages_total",
        "dynamo_metrics_load_messages_total{result=\"inbox_full\"}",
        "push-ingest.json",
        "load");
  }

  @SuppressWarnings("try") // jnats declares Connection.close() to throw InterruptedException
  private Ingest flood(
      int seconds, String subject, String counted, String dropCounter, String file, String mode)
      throws Exception {
    Path logs = out.resolve("logs");
    Nats natsServer = startNats("nats-" + file.replace(".json", ""));
    Process nats = natsServer.process();
    int port = Processes.freePort();
    Process agg = null;
    try {
      String url = natsServer.url();
      double baseline = mode == null ? Double.NaN : baselineHeap(url, logs);
      agg = aggregator(url, port, logs.resolve("aggregator-" + file.replace(".json", ".log")));
      Processes.awaitPort(port, Duration.ofSeconds(30));
      Thread.sleep(2000);
      AtomicLong bare = new AtomicLong();
      try (Connection c = io.nats.client.Nats.connect(url)) {
        Dispatcher d = c.createDispatcher(m -> bare.incrementAndGet());
        d.setPendingLimits(-1, -1);
        d.subscribe(subject);
        c.flush(Duration.ofSeconds(5));
        double before = metric(port, counted);
        double droppedBefore =
            metric(port, dropCounter)
                + metric(port, "dynamo_metrics_events_slow_consumer_dropped_total");
        List<String> cmd =
            new ArrayList<>(
                List.of(
                    Processes.java(),
                    "-cp",
                    Processes.classPath(),
                    EventFlood.class.getName(),
                    url,
                    subject,
                    Integer.toString(seconds)));
        if (mode != null) {
          cmd.add(mode);
        }
        Process flood = Processes.start(logs.resolve("flood-" + file + ".log"), cmd);
        flood.waitFor();
        drain(port, counted, bare); // both count what was queued when the flood ended
        String sentLine =
            Files.readString(logs.resolve("flood-" + file + ".log"))
                .lines()
                .filter(l -> l.startsWith("sent "))
                .findFirst()
                .orElse("sent 0");
        long sent = Long.parseLong(sentLine.substring(5).strip());
        long accepted = (long) (metric(port, counted) - before);
        long dropped =
            (long)
                (metric(port, dropCounter)
                    + metric(port, "dynamo_metrics_events_slow_consumer_dropped_total")
                    - droppedBefore);
        long bareCount = bare.get(); // before the heap measurement publishes more
        double heapPerWorker = Double.NaN;
        double served = Double.NaN;
        if (mode != null) {
          served = metric(port, "llm_workers");
          heapPerWorker = pushedHeapPerWorker(url, logs, baseline);
        }
        Ingest result =
            new Ingest(
                seconds,
                sent,
                bareCount,
                accepted,
                dropped,
                bareCount == 0 ? Double.NaN : (double) accepted / bareCount,
                served,
                heapPerWorker);
        JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve(file).toFile(), result);
        return result;
      }
    } finally {
      Processes.stop(agg);
      Processes.stop(nats);
    }
  }

  /**
   * Retained heap per pushing worker, measured as for polled ones: a fresh aggregator (never
   * scraped, so no rendered exposition is kept) gets one load message from each of 10,000 workers,
   * serves them all (read from the API), and its live heap after a full GC, less an idle
   * aggregator's, is divided among them.
   */
  @SuppressWarnings("try") // jnats declares Connection.close() to throw InterruptedException
  private double pushedHeapPerWorker(String url, Path logs, double baseline) throws Exception {
    int port = Processes.freePort();
    Process agg = aggregator(url, port, logs.resolve("aggregator-push-heap.log"));
    try (Connection c = io.nats.client.Nats.connect(url)) {
      Processes.awaitPort(port, Duration.ofSeconds(30));
      Thread.sleep(2000);
      for (int i = 0; i < EventFlood.LOAD_WORKERS; i++) {
        c.publish(
            "namespace.bench.kv_metrics",
            io.dynamometrics.wire.PushEncoder.envelope(
                1_000_000 + i,
                0,
                System.currentTimeMillis(),
                io.dynamometrics.wire.PushDecoder.KV_METRICS,
                io.dynamometrics.wire.PushEncoder.activeLoad(1_000_000 + i, 0, i % 500, i % 700)));
      }
      c.flush(Duration.ofSeconds(10));
      awaitWorkers(port, EventFlood.LOAD_WORKERS, Duration.ofMinutes(1));
      Thread.sleep(3000);
      return (heapAfterGc(agg) - baseline) / EventFlood.LOAD_WORKERS;
    } finally {
      Processes.stop(agg);
    }
  }

  /** Waits until neither count moves for a second (at most 60 s). */
  private void drain(int port, String counted, AtomicLong bare) throws Exception {
    double last = -1;
    long lastBare = -1;
    for (int i = 0; i < 60; i++) {
      double now = metric(port, counted);
      if (now == last && bare.get() == lastBare) {
        return;
      }
      last = now;
      lastBare = bare.get();
      Thread.sleep(1000);
    }
  }

  /** The sum of the samples of {@code name}. */
  private double metric(int port, String name) throws Exception {
    double sum = 0;
    for (String line : get(port, "/metrics").split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /** Milliseconds from a worker changing its stats to the new value being served. */
  public record Freshness(int samples, double medianMs, double maxMs, double pollIntervalMs) {}

  /**
   * A worker answered by this process changes {@code kv_active_blocks} at a random moment; the time
   * until {@code /api/v1/fleet} serves the new value is measured, {@code samples} times.
   */
  @SuppressWarnings("try") // jnats declares Connection.close() to throw InterruptedException
  public Freshness freshness(int samples) throws Exception {
    Path logs = out.resolve("logs");
    Nats natsServer = startNats("nats-freshness");
    Process nats = natsServer.process();
    int port = Processes.freePort();
    Process agg = null;
    AtomicLong value = new AtomicLong(1);
    try {
      String url = natsServer.url();
      try (Connection c = io.nats.client.Nats.connect(url)) {
        Dispatcher d =
            c.createDispatcher(
                m ->
                    c.publish(
                        m.getReplyTo(),
                        ("{\"endpoints\":[{\"subject\":"
                                + "\"bench_freshness.load_metrics-1\",\"data\":{\"request_active_slots\":1,\"request_total_slots\":8,"
                                + "\"kv_active_blocks\":"
                                + value.get()
                                + ",\"kv_total_blocks\":100000,\"num_requests_waiting\":0,"
                                + "\"gpu_cache_usage_perc\":0.1,\"gpu_prefix_cache_hit_rate\":0.1}}]}")
                            .getBytes(StandardCharsets.UTF_8)));
        d.subscribe("$SRV.STATS.bench_freshness");
        c.flush(Duration.ofSeconds(5));
        agg =
            aggregator(
                url, port, logs.resolve("aggregator-freshness.log"), "Freshness", "load_metrics");
        Processes.awaitPort(port, Duration.ofSeconds(30));
        awaitWorkers(port, 1, Duration.ofSeconds(30));
        return served(port, samples, value::set, "freshness.json");
      }
    } finally {
      Processes.stop(agg);
      Processes.stop(nats);
    }
  }

  /**
   * {@code samples} times, at a random moment: {@code change} gives the worker a new {@code
   * kv_active_blocks}, and the time until {@code /api/v1/fleet} serves it is measured; written to
   * {@code file}.
   */
  private Freshness served(
      int port, int samples, java.util.function.LongConsumer change, String file) throws Exception {
    Random random = new Random(5);
    double[] ms = new double[samples];
    for (int i = 0; i < samples; i++) {
      Thread.sleep(random.nextInt(1000));
      long next = 100L + i;
      change.accept(next);
      long t0 = System.nanoTime();
      while (JSON.readTree(get(port, "/api/v1/fleet"))
              .at("/endpoints/0/workers/0/kvActiveBlocks")
              .asLong()
          != next) {
        Thread.sleep(2);
      }
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    Freshness f = new Freshness(samples, percentile(ms, 0.5), ms[ms.length - 1], 1000);
    JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve(file).toFile(), f);
    return f;
  }

  /**
   * A worker pushes a new {@code kv_used_blocks} (a msgpack envelope, as Dynamo 0.9 to 1.3 does) at
   * a random moment; the time until {@code /api/v1/fleet} serves it is measured, {@code samples}
   * times.
   */
  @SuppressWarnings("try") // jnats declares Connection.close() to throw InterruptedException
  public Freshness pushFreshness(int samples) throws Exception {
    Path logs = out.resolve("logs");
    Nats natsServer = startNats("nats-push-freshness");
    Process nats = natsServer.process();
    int port = Processes.freePort();
    Process agg = null;
    try {
      String url = natsServer.url();
      agg = aggregator(url, port, logs.resolve("aggregator-push-freshness.log"));
      Processes.awaitPort(port, Duration.ofSeconds(30));
      try (Connection c = io.nats.client.Nats.connect(url)) {
        AtomicLong sequence = new AtomicLong();
        java.util.function.LongConsumer push =
            next ->
                c.publish(
                    "namespace.bench.kv_metrics",
                    io.dynamometrics.wire.PushEncoder.envelope(
                        42,
                        sequence.getAndIncrement(),
                        System.currentTimeMillis(),
                        io.dynamometrics.wire.PushDecoder.KV_METRICS,
                        io.dynamometrics.wire.PushEncoder.activeLoad(42, 0, next / 2, next)));
        // until the service has subscribed (its port opens before NATS is connected)
        for (int tries = 0; tries < 60 && workersServed(port) < 1; tries++) {
          push.accept(1);
          Thread.sleep(500);
        }
        return served(port, samples, push, "push-freshness.json");
      }
    } finally {
      Processes.stop(agg);
      Processes.stop(nats);
    }
  }

  /**
   * One launch of the service through {@code bin/dynamo-metrics}: how long until {@code /readyz}
   * answered 200, and its resident memory {@code settle} after launch.
   *
   * @param javaOptions what {@code DYNAMO_METRICS_JAVA_OPTS} was ({@code null}: unset, the
   *     launcher's defaults)
   */
  public record Footprint(
      String variant, String javaOptions, int workers, double readyMs, double rssMib) {}

  /**
   * Launches the service {@code rounds} times per variant, alternating variants, against {@code
   * workers} mock workers, the way an operator starts it ({@code bin/dynamo-metrics}).
   */
  public List<Footprint> footprint(
      int workers, Map<String, String> variants, Duration settle, int rounds) throws Exception {
    Path logs = out.resolve("logs");
    Nats natsServer = startNats("nats-footprint");
    Process mock = null;
    List<Footprint> results = new ArrayList<>();
    try {
      String url = natsServer.url();
      mock = mock(logs.resolve("mock-footprint.log"), "1g", url, workers);
      Thread.sleep(3000);
      for (int round = 0; round < rounds; round++) {
        for (Map.Entry<String, String> v : variants.entrySet()) {
          int port = Processes.freePort();
          List<String> cmd = new ArrayList<>(List.of("bin/dynamo-metrics"));
          cmd.addAll(List.of(serviceFlags(url, port, "MyComponent", "my_endpoint")));
          ProcessBuilder pb =
              new ProcessBuilder(cmd)
                  .redirectErrorStream(true)
                  .redirectOutput(logs.resolve("footprint-" + round + ".log").toFile());
          pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
          if (v.getValue() == null) {
            pb.environment().remove("DYNAMO_METRICS_JAVA_OPTS");
          } else {
            pb.environment().put("DYNAMO_METRICS_JAVA_OPTS", v.getValue());
          }
          long t0 = System.nanoTime();
          Process agg = pb.start();
          try {
            double readyMs = Double.NaN;
            while (System.nanoTime() - t0 < Duration.ofSeconds(30).toNanos()) {
              try {
                HttpResponse<Void> r =
                    http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                            .timeout(Duration.ofSeconds(1))
                            .build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                  readyMs = (System.nanoTime() - t0) / 1e6;
                  break;
                }
              } catch (IOException starting) {
                // not listening yet
              }
              Thread.sleep(5);
            }
            long left = settle.toNanos() - (System.nanoTime() - t0);
            if (left > 0) {
              Thread.sleep(Duration.ofNanos(left));
            }
            double rss = Processes.rssKib(agg) / 1024.0;
            results.add(new Footprint(v.getKey(), v.getValue(), workers, readyMs, rss));
            LOG.info(
                String.format(
                    Locale.ROOT,
                    "footprint %s: ready %.0f ms, %.1f MiB resident",
                    v.getKey(),
                    readyMs,
                    rss));
          } finally {
            Processes.stop(agg);
          }
        }
      }
    } finally {
      if (mock != null) {
        Processes.stop(mock);
      }
      Processes.stop(natsServer.process());
    }
    JSON.writerWithDefaultPrettyPrinter()
        .writeValue(out.resolve("footprint.json").toFile(), results);
    return results;
  }

  /** {@code workers} mock workers in namespace bench, without events, in a JVM of their own. */
  private static Process mock(Path log, String maxHeap, String url, int workers, String... more)
      throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "mock-worker",
                "--namespace",
                "bench",
                "--nats-server",
                url,
                "--log-level",
                "warn"));
    args.addAll(List.of("--workers", Integer.toString(workers), "--events-per-second", "0"));
    args.addAll(List.of(more));
    return Processes.start(log, Processes.self(maxHeap, List.of(), args.toArray(String[]::new)));
  }

  /** Live heap of the aggregator, sampled while workers keep joining and leaving. */
  public record Churn(
      int workers,
      double churnPerSecond,
      double minutes,
      long cycles,
      List<Double> heapSamplesBytes,
      double firstHalfMeanBytes,
      double secondHalfMeanBytes,
      int maxWorkersSeen) {}

  /**
   * {@code workers} mock workers of which one leaves and one joins every {@code every}; the
   * aggregator's live heap (after a full GC) is sampled every {@code sampleEvery} for {@code
   * total}.
   */
  public Churn churn(int workers, Duration every, Duration total, Duration sampleEvery)
      throws Exception {
    Path logs = out.resolve("logs");
    Nats natsServer = startNats("nats-churn");
    Process nats = natsServer.process();
    int port = Processes.freePort();
    Process agg = null;
    Process mock = null;
    try {
      String url = natsServer.url();
      mock =
          mock(
              logs.resolve("mock-churn.log"),
              "1g",
              url,
              workers,
              "--churn",
              Double.toString(every.toMillis() / 1000.0));
      agg = aggregator(url, port, logs.resolve("aggregator-churn.log"));
      Processes.awaitPort(port, Duration.ofSeconds(30));
      Thread.sleep(5000);
      List<Double> heap = new ArrayList<>();
      int maxSeen = 0;
      long end = System.nanoTime() + total.toNanos();
      while (System.nanoTime() < end) {
        heap.add(heapAfterGc(agg));
        long next = System.nanoTime() + sampleEvery.toNanos();
        while (System.nanoTime() < Math.min(next, end)) {
          maxSeen =
              Math.max(
                  maxSeen,
                  JSON.readTree(get(port, "/api/v1/fleet?workers=false"))
                      .at("/endpoints/0/aggregates/workers")
                      .asInt());
          Thread.sleep(1000);
        }
      }
      heap.add(heapAfterGc(agg));
      // The first sample is taken before warm-up (class loading, first buffers); halves compare the
      // rest.
      List<Double> steady = heap.subList(1, heap.size());
      int half = steady.size() / 2;
      double first =
          steady.subList(0, half).stream()
              .mapToDouble(Double::doubleValue)
              .average()
              .orElse(Double.NaN);
      double second =
          steady.subList(half, steady.size()).stream()
              .mapToDouble(Double::doubleValue)
              .average()
              .orElse(Double.NaN);
      long cycles = total.toMillis() / Math.max(1, every.toMillis());
      Churn c =
          new Churn(
              workers,
              1000.0 / every.toMillis(),
              total.toSeconds() / 60.0,
              cycles,
              heap,
              first,
              second,
              maxSeen);
      JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("churn.json").toFile(), c);
      return c;
    } finally {
      Processes.stop(agg);
      Processes.stop(mock);
      Processes.stop(nats);
    }
  }

  private double baselineHeap(String url, Path logs) throws Exception {
    int port = Processes.freePort();
    Process agg = aggregator(url, port, logs.resolve("aggregator-0.log"));
    try {
      Processes.awaitPort(port, Duration.ofSeconds(30));
      Thread.sleep(3000);
      return heapAfterGc(agg);
    } finally {
      Processes.stop(agg);
    }
  }

  private Process aggregator(String url, int port, Path log) throws IOException {
    return aggregator(url, port, log, "MyComponent", "my_endpoint");
  }

  /** The aggregator under test, in namespace {@code bench}, polling every second. */
  private Process aggregator(String url, int port, Path log, String component, String endpoint)
      throws IOException {
    List<String> options = new ArrayList<>();
    if (profile) {
      options.add(
          "-XX:StartFlightRecording=filename="
              + log.resolveSibling(log.getFileName() + ".jfr")
              + ",settings=profile");
    }
    if (jvmOption != null) {
      options.add(jvmOption);
    }
    return Processes.start(
        log, Processes.self("1g", options, serviceFlags(url, port, component, endpoint)));
  }

  /**
   * The flags of the service under test: {@code component}/{@code endpoint} of namespace {@code
   * bench} on NATS at {@code url}, HTTP on 127.0.0.1:{@code port}, polling every second.
   */
  private static String[] serviceFlags(String url, int port, String component, String endpoint) {
    return new String[] {
      "--namespace",
      "bench",
      "--component",
      component,
      "--endpoint",
      endpoint,
      "--nats-server",
      url,
      "--host",
      "127.0.0.1",
      "--port",
      Integer.toString(port),
      "--poll-interval",
      "1",
      "--log-level",
      "warn"
    };
  }

  /** End-to-end {@code /metrics} times of one kind of request, in milliseconds. */
  public record Scrape(
      String request, int workers, int samples, double medianMs, double p90Ms, long bytes) {}

  /**
   * {@code /metrics} over HTTP against {@code workers} live workers: text 0.0.4, OpenMetrics and
   * gzip-compressed text, alternating, side by side in one run.
   */
  public List<Scrape> scrape(List<Integer> fleets, int samples) throws Exception {
    List<Scrape> results = new ArrayList<>();
    for (int workers : fleets) {
      results.addAll(scrape(workers, samples));
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("scrape.json").toFile(), results);
    return results;
  }

  private List<Scrape> scrape(int workers, int samples) throws Exception {
    Path logs = out.resolve("logs");
    Nats natsServer = startNats("nats-scrape");
    List<Process> mocks = new ArrayList<>();
    int port = Processes.freePort();
    Process agg = null;
    List<Scrape> results = new ArrayList<>();
    try {
      int processes = (workers + WORKERS_PER_PROCESS - 1) / WORKERS_PER_PROCESS;
      for (int i = 0; i < processes; i++) {
        int n = workers / processes + (i < workers % processes ? 1 : 0);
        mocks.add(mock(logs.resolve("mock-scrape-" + i + ".log"), "2g", natsServer.url(), n));
      }
      agg = aggregator(natsServer.url(), port, logs.resolve("aggregator-scrape.log"));
      Processes.awaitPort(port, Duration.ofSeconds(30));
      awaitWorkers(port, workers, Duration.ofMinutes(2));
      String[][] kinds = {
        {"text", null, null},
        {"OpenMetrics", "application/openmetrics-text; version=1.0.0; charset=utf-8", null},
        {"text, gzip", null, "gzip"},
      };
      Map<String, List<Double>> times = new LinkedHashMap<>();
      Map<String, Long> sizes = new HashMap<>();
      for (int round = -3; round < samples; round++) { // three rounds of warm-up
        for (String[] k : kinds) {
          // right after a poll: the first scrape of the new snapshot renders it, the second one
          // (same snapshot, checked by the poll count) is served what the first rendered
          long polls = awaitNextPoll(port);
          Timed first = timedScrape(port, "/metrics", k[1], k[2]);
          Timed again = timedScrape(port, "/metrics", k[1], k[2]);
          // the same again with curl, a native client (as Prometheus's Go scraper is; the JDK's
          // client spends time of its own on 10 MB); its own timer, so starting it is not counted
          Timed curl = k[1] == null ? curlScrape(port, k[2]) : null;
          boolean samePoll = polls(port) == polls;
          // the client library's own handler on the same registry (debug=text renders everything
          // through its writer, uncached), for the side by side
          Timed client =
              k[2] == null && k[1] == null
                  ? timedScrape(port, "/metrics?debug=text", null, null)
                  : null;
          if (round >= 0) {
            record(times, sizes, k[0] + ", new snapshot", first);
            if (samePoll) {
              record(times, sizes, k[0] + ", snapshot already rendered", again);
              if (curl != null) {
                record(times, sizes, k[0] + ", snapshot already rendered (curl)", curl);
              }
            }
            if (client != null) {
              record(times, sizes, "text, the client's handler (uncached)", client);
            }
          }
        }
      }
      // a scraper on a fixed one-second period, as Prometheus with scrape_interval: 1s: once the
      // service has seen its interval, each new poll is rendered ahead for it
      long period = Duration.ofSeconds(1).toNanos();
      long next = System.nanoTime() + period;
      for (int i = -3; i < samples; i++) { // three scrapes for the service to learn the period
        Thread.sleep(Duration.ofNanos(Math.max(0, next - System.nanoTime())));
        next += period;
        Timed t = timedScrape(port, "/metrics", null, null);
        if (i >= 0) {
          record(times, sizes, "text, a scraper every second (rendered ahead)", t);
        }
      }
      for (Map.Entry<String, List<Double>> e : times.entrySet()) {
        double[] sorted = e.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
        results.add(
            new Scrape(
                e.getKey(),
                workers,
                sorted.length,
                percentile(sorted, 0.5),
                percentile(sorted, 0.9),
                sizes.get(e.getKey())));
      }
    } finally {
      if (agg != null) {
        Processes.stop(agg);
      }
      for (Process m : mocks) {
        Processes.stop(m);
      }
      Processes.stop(natsServer.process());
    }
    return results;
  }

  private record Timed(double ms, long bytes) {}

  private static void record(
      Map<String, List<Double>> times, Map<String, Long> sizes, String kind, Timed t) {
    times.computeIfAbsent(kind, x -> new ArrayList<>()).add(t.ms());
    sizes.put(kind, t.bytes());
  }

  /** One timed GET of {@code path}. */
  private Timed timedScrape(int port, String path, String accept, String encoding)
      throws Exception {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30));
    if (accept != null) {
      req.header("Accept", accept);
    }
    if (encoding != null) {
      req.header("Accept-Encoding", encoding);
    }
    long t0 = System.nanoTime();
    HttpResponse<byte[]> r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
    return new Timed((System.nanoTime() - t0) / 1e6, r.body().length);
  }

  /**
   * One GET of {@code /metrics} by curl, timed by curl from connecting to the last byte; {@code
   * null} where curl is not installed.
   */
  private static Timed curlScrape(int port, String encoding) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null"));
    if (encoding != null) {
      cmd.addAll(List.of("-H", "Accept-Encoding: " + encoding));
    }
    cmd.addAll(
        List.of("-w", "%{time_total} %{size_download}", "http://127.0.0.1:" + port + "/metrics"));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException notInstalled) {
      return null;
    }
    String[] out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split(" ");
    if (p.waitFor() != 0 || out.length != 2) {
      throw new IOException("curl failed: " + String.join(" ", out));
    }
    return new Timed(Double.parseDouble(out[0]) * 1000, Long.parseLong(out[1].strip()));
  }

  /** The service's poll count. */
  private long polls(int port) throws Exception {
    return JSON.readTree(get(port, "/api/v1/fleet?workers=false")).at("/status/polls").asLong();
  }

  /** Waits until the service publishes its next poll's snapshot; returns the new poll count. */
  private long awaitNextPoll(int port) throws Exception {
    long before = polls(port);
    long now;
    while ((now = polls(port)) == before) {
      Thread.sleep(5); // the poll period is a second: look every 5 ms
    }
    return now;
  }

  private Run measure(int size, String url, Path logs, double baselineHeap) throws Exception {
    LOG.info("fleet of " + size + " workers");
    List<Process> mocks = new ArrayList<>();
    int port = Processes.freePort();
    Process agg = null;
    try {
      int processes = (size + WORKERS_PER_PROCESS - 1) / WORKERS_PER_PROCESS;
      for (int i = 0; i < processes; i++) {
        int n = size / processes + (i < size % processes ? 1 : 0);
        mocks.add(
            mock(
                logs.resolve("mock-" + size + "-" + i + ".log"),
                "2g",
                url,
                n,
                "--seed",
                Integer.toString(i + 1)));
      }
      agg = aggregator(url, port, logs.resolve("aggregator-" + size + ".log"));
      Processes.awaitPort(port, Duration.ofSeconds(30));
      awaitWorkers(port, size, Duration.ofMinutes(2));
      Thread.sleep(warmup);
      double cpu0 = cpuSeconds(agg);
      long polls0 = polls(port);
      List<Double> gathers = new ArrayList<>();
      List<Double> lingers = new ArrayList<>();
      int complete = 0;
      long lastPoll = 0;
      long end = System.nanoTime() + measure.toNanos();
      while (System.nanoTime() < end) {
        JsonNode ep = JSON.readTree(get(port, "/api/v1/fleet?workers=false")).at("/endpoints/0");
        long completed = ep.at("/poll/completedAtMillis").asLong();
        if (completed != lastPoll) {
          lastPoll = completed;
          gathers.add(ep.at("/poll/durationSeconds").asDouble() * 1000);
          JsonNode linger = ep.at("/poll/lingerSeconds"); // absent before this field existed
          lingers.add(linger.isNumber() ? linger.asDouble() * 1000 : Double.NaN);
          if (ep.at("/aggregates/workers").asInt() == size) {
            complete++;
          }
        }
        Thread.sleep(400);
      }
      double cpu = cpuSeconds(agg) - cpu0;
      long polls = polls(port) - polls0;
      double heap = heapAfterGc(agg);
      double[] g = gathers.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double[] l = lingers.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double cpuPerPollMs = polls > 0 ? cpu * 1000 / polls : Double.NaN;
      Run run =
          new Run(
              size,
              g.length,
              g.length == 0 ? 0 : (double) complete / g.length,
              percentile(g, 0.5),
              percentile(g, 0.9),
              g.length == 0 ? Double.NaN : g[g.length - 1],
              percentile(l, 0.5),
              percentile(l, 0.9),
              cpuPerPollMs,
              cpuPerPollMs / 1000,
              (heap - baselineHeap) / size);
      LOG.info(run.toString());
      return run;
    } finally {
      Processes.stop(agg);
      for (Process m : mocks) {
        Processes.stop(m);
      }
    }
  }

  private double workersServed(int port) throws Exception {
    return JSON.readTree(get(port, "/api/v1/fleet?workers=false"))
        .at("/endpoints/0/aggregates/workers")
        .asDouble(0);
  }

  private void awaitWorkers(int port, int size, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode fleet = JSON.readTree(get(port, "/api/v1/fleet?workers=false"));
      if (fleet.at("/endpoints/0/aggregates/workers").asInt() == size) {
        return;
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(
        "the aggregator never saw all "
            + size
            + " workers; see the logs in "
            + out.resolve("logs"));
  }

  /** Bytes of live objects: the class histogram runs a full GC first and totals what survives. */
  private double heapAfterGc(Process agg) throws Exception {
    String histogram = Processes.classHistogram(agg.pid());
    Files.writeString(
        this.out
            .resolve("logs")
            .resolve("histogram-" + agg.pid() + "-" + System.currentTimeMillis() + ".txt"),
        histogram);
    return Processes.liveHeapBytes(histogram);
  }

  /**
   * User plus system CPU time of a process, from /proc (Linux): measuring through the service's own
   * /metrics would add the cost of rendering 10,000 workers to what is measured.
   */
  private static double cpuSeconds(Process p) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12]))
        / 100.0; // utime, stime in clock ticks (USER_HZ = 100)
  }

  private String get(int port, String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(p * sorted.length))];
  }

  private void write(List<Run> runs) throws IOException {
    Files.createDirectories(out);
    ObjectNode root = JSON.createObjectNode();
    root.put(
        "machine",
        Runtime.getRuntime().availableProcessors()
            + " cores, "
            + System.getProperty("os.name")
            + " "
            + System.getProperty("os.arch")
            + ", Java "
            + System.getProperty("java.version"));
    root.put("measureSeconds", measure.toSeconds());
    root.put("warmupSeconds", warmup.toSeconds());
    root.put("referenceGatherMs", REFERENCE_GATHER_MS);
    ArrayNode arr = root.putArray("runs");
    for (Run r : runs) {
      ObjectNode o = JSON.valueToTree(r);
      o.put("gatherRatioVsReference", REFERENCE_GATHER_MS / r.gatherMedianMs());
      arr.add(o);
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("load.json").toFile(), root);
    Files.writeString(out.resolve("load.svg"), Plot.svg(runs));
  }

  public static int[] parseSizes(String s) {
    try {
      int[] sizes =
          Arrays.stream(s.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
      if (sizes.length == 0 || Arrays.stream(sizes).anyMatch(n -> n < 1 || n > 100_000)) {
        throw new NumberFormatException();
      }
      return sizes;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--workers '" + s + "' must be a comma-separated list of fleet sizes from 1 to 100000");
    }
  }
}
