package io.dynamometrics.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load harness: real nats-server, mock-worker processes and the aggregator, measured end to
 * end. Benchmark code, kept out of the product jar: {@code bin/bench} (or {@code bin/dynamo-metrics
 * bench}) runs it from the test classes against {@code target/dynamo-metrics.jar}.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description =
        "Measures the aggregator end to end: starts nats-server (from the PATH), mock-worker processes "
            + "(2,500 workers each) and the aggregator as its own process, and for each fleet size records the "
            + "gather time of every poll, whether each poll gathered every worker, CPU time per poll and retained "
            + "heap per worker. Writes load.json and load.svg into --out.%n")
public final class Bench implements Callable<Integer> {
  @Option(
      names = "--workers",
      defaultValue = "100,1000,2500,5000,10000",
      paramLabel = "N,N,...",
      description = "Fleet sizes to measure (default: ${DEFAULT-VALUE}).")
  String workers;

  @Option(
      names = "--seconds",
      defaultValue = "20",
      paramLabel = "S",
      description = "Seconds measured per fleet size, after a warm-up (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Option(
      names = "--warmup-seconds",
      defaultValue = "3",
      paramLabel = "S",
      description =
          "Seconds each fleet size runs, once every worker is seen, before the measured window; 60 or more at 10,000 workers on two cores measures a JIT that has finished compiling, as in a service that has run a while (default: ${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Option(
      names = "--out",
      defaultValue = "bench-results",
      paramLabel = "DIR",
      description = "Where results and logs go (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--ingest-seconds",
      defaultValue = "10",
      paramLabel = "S",
      description =
          "Seconds of the hit-rate event flood that compares the aggregator with a bare jnats subscriber; 0 skips it (default: ${DEFAULT-VALUE}).")
  int ingestSeconds;

  @Option(
      names = "--push-ingest-seconds",
      defaultValue = "10",
      paramLabel = "S",
      description =
          "Seconds of the flood of 10,000 workers' pushed load (msgpack envelopes) that compares the aggregator's decoding with a bare jnats subscriber, and measures heap per pushing worker; 0 skips it (default: ${DEFAULT-VALUE}).")
  int pushIngestSeconds;

  @Option(
      names = "--push-freshness-samples",
      defaultValue = "15",
      paramLabel = "N",
      description =
          "Times a worker pushes a new value to measure how soon it is served; 0 skips it (default: ${DEFAULT-VALUE}).")
  int pushFreshnessSamples;

  @Option(
      names = "--zmq-ingest-seconds",
      defaultValue = "10",
      paramLabel = "S",
      description =
          "Seconds of the flood of --zmq-publishers ZMQ publishers' load that compares the ZMQ intake's decoding with a bare JeroMQ subscriber connected to the same publishers, then times a new publisher's first value; 0 skips it (default: ${DEFAULT-VALUE}).")
  int zmqIngestSeconds;

  @Option(
      names = "--zmq-publishers",
      defaultValue = "1000",
      paramLabel = "N",
      description = "Publishers of the ZMQ flood (default: ${DEFAULT-VALUE}).")
  int zmqPublishers;

  @Option(
      names = "--kube-resources",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Worker resources (DynamoWorkerMetadata, pods ready) on a real kube-apiserver for the Kubernetes discovery benchmark: the memory of a service watching them beside one watching nothing, then --kube-samples times from a pod turning ready to its worker's first value served; 0 skips it (default: ${DEFAULT-VALUE}).")
  int kubeResources;

  @Option(
      names = "--kube-samples",
      paramLabel = "N",
      defaultValue = "10",
      description = "Pods turned ready one after another, each timed (default: ${DEFAULT-VALUE}).")
  int kubeSamples;

  @Option(
      names = "--pushed-only",
      description =
          "Run only the pushed-load benchmarks (--push-ingest-seconds, --push-freshness-samples,"
              + " --zmq-ingest-seconds, --kube-resources).")
  boolean pushedOnly;

  @Option(
      names = "--freshness-samples",
      defaultValue = "15",
      paramLabel = "N",
      description =
          "Times a worker changes its stats to measure how soon the new value is served; 0 skips it (default: ${DEFAULT-VALUE}).")
  int freshnessSamples;

  @Option(
      names = "--churn-minutes",
      defaultValue = "0",
      paramLabel = "M",
      description =
          "Minutes of the churn soak (200 workers, one leaving and one joining every 0.1 s, live heap sampled); "
              + "0 skips it (default: ${DEFAULT-VALUE}; the goal is 30).")
  double churnMinutes;

  @Option(
      names = "--footprint-rounds",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "Launches through bin/dynamo-metrics against 100 workers, N times per JVM setting (no options, "
              + "the launcher's defaults), measuring time to /readyz and resident memory 30 s after "
              + "launch; writes footprint.json; 0 skips it (default: ${DEFAULT-VALUE}).")
  int footprintRounds;

  @Option(
      names = "--footprint-variant",
      paramLabel = "NAME=OPTIONS",
      description =
          "With --footprint-rounds: also launch with DYNAMO_METRICS_JAVA_OPTS=OPTIONS (which replaces "
              + "the launcher's defaults), reported as NAME; repeatable.")
  Map<String, String> footprintVariants = new LinkedHashMap<>();

  @Option(
      names = "--scrape-workers",
      split = ",",
      paramLabel = "N",
      description =
          "Times /metrics over HTTP against N live workers (a comma-separated list: one fleet "
              + "after another), text, OpenMetrics and gzip, each as the first scrape after a poll "
              + "(it renders) and the second (the same poll: cached bytes, also timed by curl), "
              + "the client library's own handler beside them, and a scraper on a fixed 1 s "
              + "period, 20 samples each; writes scrape.json; none by default.")
  List<Integer> scrapeWorkers = new ArrayList<>();

  @Option(
      names = "--profile",
      description = "Record a JFR profile of the aggregator for each fleet size (in --out/logs).")
  boolean profile;

  @Option(
      names = "--aggregator-jvm-option",
      paramLabel = "OPTION",
      description =
          "One more JVM option for the measured aggregator (beside -Xmx1g -XX:+UseSerialGC), "
              + "e.g. -XX:TieredStopAtLevel=1.")
  String aggregatorJvmOption;

  @Option(
      names = "--log-level",
      defaultValue = "warning",
      paramLabel = "LEVEL",
      description =
          "The harness's own logging, a java.util.logging level (default: ${DEFAULT-VALUE}).")
  String logLevel;

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new Bench());
    cli.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            line.getErr().println("bench: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    System.exit(cli.execute(args));
  }

  @Override
  public Integer call() throws Exception {
    try {
      Logger.getLogger("").setLevel(Level.parse(logLevel.toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--log-level '" + logLevel + "' is not a java.util.logging level");
    }
    int[] sizes;
    try {
      sizes = LoadHarness.parseSizes(workers);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage());
    }
    if (freshnessSamples < 0
        || freshnessSamples > 1000
        || !(churnMinutes >= 0)
        || churnMinutes > 600) {
      throw new IllegalArgumentException(
          "--freshness-samples must be 0..1000 and --churn-minutes 0..600");
    }
    if (seconds < 1 || seconds > 3600) {
      throw new IllegalArgumentException("--seconds must be between 1 and 3600, got " + seconds);
    }
    if (warmupSeconds < 0 || warmupSeconds > 3600) {
      throw new IllegalArgumentException(
          "--warmup-seconds must be between 0 and 3600, got " + warmupSeconds);
    }
    List<LoadHarness.Run> runs;
    LoadHarness.Ingest ingest = null;
    LoadHarness harness =
        new LoadHarness(
            out,
            Duration.ofSeconds(seconds),
            Duration.ofSeconds(warmupSeconds),
            profile,
            aggregatorJvmOption);
    if (pushIngestSeconds > 0) {
      LoadHarness.Ingest p = harness.pushIngest(pushIngestSeconds);
      System.out.println(
          String.format(
              Locale.ROOT,
              "pushed load: %d envelopes of %d workers in %.0f s; a bare jnats subscriber received"
                  + " %d, the aggregator decoded %d (ratio %.3f), dropped %d; %.0f workers served,"
                  + " %.0f bytes of heap per worker (%s)",
              p.sent(),
              EventFlood.LOAD_WORKERS,
              p.seconds(),
              p.bareReceived(),
              p.accepted(),
              p.ratio(),
              p.droppedByAggregator(),
              p.workersServed(),
              p.heapPerWorkerBytes(),
              out.resolve("push-ingest.json")));
    }
    if (pushFreshnessSamples > 0) {
      LoadHarness.Freshness f = harness.pushFreshness(pushFreshnessSamples);
      System.out.println(
          String.format(
              Locale.ROOT,
              "pushed freshness: %d values, served after %.0f ms median, %.0f ms at most (poll"
                  + " interval %.0f ms) (%s)",
              f.samples(),
              f.medianMs(),
              f.maxMs(),
              f.pollIntervalMs(),
              out.resolve("push-freshness.json")));
    }
    if (zmqIngestSeconds > 0) {
      ZmqIngest.Result z = ZmqIngest.run(out, zmqPublishers, zmqIngestSeconds, 20);
      System.out.println(
          String.format(
              Locale.ROOT,
              "zmq load: %d messages of %d publishers in %.0f s; a bare JeroMQ subscriber received"
                  + " %d, the intake decoded %d (ratio %.3f), %d counted lost; a new publisher's"
                  + " first value decoded after %.0f ms median, %.0f ms at most (%s)",
              z.sent(),
              z.publishers(),
              z.seconds(),
              z.bareReceived(),
              z.decoded(),
              z.ratio(),
              z.lost(),
              z.firstValueMedianMs(),
              z.firstValueMaxMs(),
              out.resolve("zmq-ingest.json")));
    }
    if (kubeResources > 0) {
      KubeDiscovery.Result k = KubeDiscovery.run(out, kubeResources, kubeSamples);
      System.out.println(
          String.format(
              Locale.ROOT,
              "kubernetes discovery: %d worker resources listed in %.0f ms; live heap %.1f MiB"
                  + " watching them, %.1f MiB watching none (%.0f bytes per resource); resident"
                  + " %.1f and %.1f MiB; pod ready to first value served: %.0f ms median, %.0f ms at"
                  + " most of %d (1 s polls) (%s)",
              k.resources(),
              k.listedMs(),
              k.heapWatchingBytes() / 1048576.0,
              k.heapIdleBytes() / 1048576.0,
              k.heapPerResourceBytes(),
              k.rssWatchingKib() / 1024.0,
              k.rssIdleKib() / 1024.0,
              k.readyToValueMedianMs(),
              k.readyToValueMaxMs(),
              k.samples(),
              out.resolve("kube-discovery.json")));
    }
    if (pushedOnly) {
      return 0;
    }
    runs = harness.run(sizes);
    if (ingestSeconds > 0) {
      ingest = harness.ingest(ingestSeconds);
    }
    for (int scrapeFleet : scrapeWorkers) {
      if (scrapeFleet < 1) {
        throw new IllegalArgumentException("--scrape-workers must be positive, got " + scrapeFleet);
      }
    }
    if (!scrapeWorkers.isEmpty()) {
      for (LoadHarness.Scrape sc : harness.scrape(scrapeWorkers, 20)) {
        System.out.println(
            String.format(
                Locale.ROOT,
                "scrape: %-30s %d workers: median %.1f ms, p90 %.1f ms, %d bytes",
                sc.request(),
                sc.workers(),
                sc.medianMs(),
                sc.p90Ms(),
                sc.bytes()));
      }
    }
    if (footprintRounds > 0) {
      Map<String, String> variants = new LinkedHashMap<>();
      variants.put("java -jar, no options", "");
      variants.put("launcher defaults", null);
      variants.putAll(footprintVariants);
      for (LoadHarness.Footprint f :
          harness.footprint(100, variants, Duration.ofSeconds(30), footprintRounds)) {
        System.out.println(
            String.format(
                Locale.ROOT,
                "footprint: %-32s ready %5.0f ms, %6.1f MiB resident",
                f.variant(),
                f.readyMs(),
                f.rssMib()));
      }
    }
    if (freshnessSamples > 0) {
      LoadHarness.Freshness f = harness.freshness(freshnessSamples);
      System.out.println(
          String.format(
              Locale.ROOT,
              "freshness: %d changes, served after %.0f ms median, %.0f ms at most (poll interval %.0f ms)",
              f.samples(),
              f.medianMs(),
              f.maxMs(),
              f.pollIntervalMs()));
    }
    if (churnMinutes > 0) {
      LoadHarness.Churn c =
          harness.churn(
              200,
              Duration.ofMillis(100),
              Duration.ofSeconds(Math.round(churnMinutes * 60)),
              Duration.ofSeconds(30));
      System.out.println(
          String.format(
              Locale.ROOT,
              "churn: %d join/leave cycles in %.1f min; live heap first half %.0f B, second half %.0f B "
                  + "(%+.1f%%); at most %d workers live at once",
              c.cycles(),
              c.minutes(),
              c.firstHalfMeanBytes(),
              c.secondHalfMeanBytes(),
              100 * (c.secondHalfMeanBytes() / c.firstHalfMeanBytes() - 1),
              c.maxWorkersSeen()));
    }
    System.out.println(
        "| workers | polls | complete | gather median ms | p90 ms | max ms | after last reply median ms | p90 ms | vs Dynamo (1000 ms) | CPU ms/poll | share of a core | heap B/worker |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (LoadHarness.Run r : runs) {
      System.out.println(
          String.format(
              Locale.ROOT,
              "| %d | %d | %.0f%% | %.1f | %.1f | %.1f | %.3f | %.3f | %.0fx | %.1f | %.1f%% | %.0f |",
              r.workers(),
              r.polls(),
              100 * r.completeShare(),
              r.gatherMedianMs(),
              r.gatherP90Ms(),
              r.gatherMaxMs(),
              r.lingerMedianMs(),
              r.lingerP90Ms(),
              1000 / r.gatherMedianMs(),
              r.cpuPerPollMs(),
              100 * r.cpuShareOfCore(),
              r.heapPerWorkerBytes()));
    }
    if (ingest != null) {
      System.out.println(
          String.format(
              Locale.ROOT,
              "events: %d sent in %.0f s; bare jnats subscriber received %d (%.0f/s), "
                  + "aggregator accepted %d (%.0f/s), ratio %.3f, dropped by the aggregator %d",
              ingest.sent(),
              ingest.seconds(),
              ingest.bareReceived(),
              ingest.bareReceived() / ingest.seconds(),
              ingest.accepted(),
              ingest.accepted() / ingest.seconds(),
              ingest.ratio(),
              ingest.droppedByAggregator()));
    }
    System.out.println(
        "results: "
            + out.resolve("load.json")
            + ", "
            + out.resolve("ingest.json")
            + ", plot: "
            + out.resolve("load.svg"));
    return 0;
  }
}
