package io.dynamometrics.bench;

import io.dynamometrics.export.FleetCollector;
import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.FleetState;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.web.Exposition;
import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.HitRateEvent;
import io.dynamometrics.wire.StatsEndpoint;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Rendering {@code /metrics} for a large fleet: our collector over the snapshot against the
 * Prometheus Java client's own labelled {@link Gauge}s holding the same series, side by side.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class ScrapeBenchmark {
  @Param({"10000"})
  int workers;

  private PrometheusRegistry ours;
  private PrometheusRegistry oursNewSnapshot;
  private FleetCollector newSnapshotCollector;
  private static final EscapingScheme ESCAPING = EscapingScheme.fromAcceptHeader(null);
  private PrometheusRegistry clientGauges;
  private final PrometheusTextFormatWriter text = PrometheusTextFormatWriter.create();
  private final OpenMetricsTextFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();

  private static final OutputStream DISCARD = OutputStream.nullOutputStream();

  /** A sink that survives the gzip stream closing it. */
  private static OutputStream sink() {
    return OutputStream.nullOutputStream();
  }

  @Setup
  public void setUp() {
    Target t = new Target("dynamo", "VllmWorker", "load_metrics");
    Random r = new Random(1);
    List<StatsEndpoint> stats = new ArrayList<>(workers);
    for (int i = 0; i < workers; i++) {
      long id = 1 + (r.nextLong() >>> 1) % Long.MAX_VALUE;
      stats.add(
          new StatsEndpoint(
              "dynamo_vllmworker.load_metrics-" + Long.toHexString(id),
              id,
              new ForwardPassMetrics(
                  r.nextInt(64),
                  64,
                  r.nextInt(4096),
                  4096,
                  r.nextInt(8),
                  r.nextDouble(),
                  r.nextDouble(),
                  -1)));
    }
    FleetState state = new FleetState(3);
    state.record(t, stats, workers, 0, 5_000_000, 5_000_000);
    FleetSnapshot snapshot = state.snapshot(10_000_000, true);
    HitRates hitRates = new HitRates(2 * workers, Long.MAX_VALUE);
    for (StatsEndpoint s : stats) {
      hitRates.record("dynamo", new HitRateEvent(s.workerId(), 100, 40), 0);
    }
    hitRates.update(snapshot, 0);
    ours = new PrometheusRegistry();
    ours.register(new FleetCollector(() -> snapshot, hitRates, () -> true));
    // Every scrape sees a snapshot it has not rendered yet: the cost when polls outpace scrapes.
    oursNewSnapshot = new PrometheusRegistry();
    newSnapshotCollector =
        new FleetCollector(
            () ->
                new FleetSnapshot(
                    snapshot.sequence(),
                    snapshot.takenAtMillis(),
                    snapshot.endpoints(),
                    snapshot.transportConnected(),
                    snapshot.workerIndex()),
            hitRates,
            () -> true);
    oursNewSnapshot.register(newSnapshotCollector);
    clientGauges = gauges(snapshot.endpoint(t), hitRates);
  }

  /** The same series as the collector's, held in the client's own labelled metrics. */
  private static PrometheusRegistry gauges(EndpointFleet e, HitRates hitRates) {
    PrometheusRegistry reg = new PrometheusRegistry();
    String[] labels = {"namespace", "component", "endpoint", "worker_id"};
    Gauge kvActive =
        Gauge.builder().name("llm_kv_blocks_active").help("h").labelNames(labels).register(reg);
    Gauge kvTotal =
        Gauge.builder().name("llm_kv_blocks_capacity").help("h").labelNames(labels).register(reg);
    Gauge slotsActive =
        Gauge.builder()
            .name("llm_requests_active_slots")
            .help("h")
            .labelNames(labels)
            .register(reg);
    Gauge slotsTotal =
        Gauge.builder().name("llm_requests_total_slots").help("h").labelNames(labels).register(reg);
    Gauge hit =
        Gauge.builder().name("llm_kv_hit_rate_percent").help("h").labelNames(labels).register(reg);
    Gauge waiting =
        Gauge.builder().name("llm_requests_waiting").help("h").labelNames(labels).register(reg);
    Gauge usage =
        Gauge.builder()
            .name("llm_gpu_cache_usage_ratio")
            .help("h")
            .labelNames(labels)
            .register(reg);
    Gauge age =
        Gauge.builder()
            .name("llm_worker_stats_age_seconds")
            .help("h")
            .labelNames(labels)
            .register(reg);
    Counter isl =
        Counter.builder()
            .name("llm_kv_hit_rate_isl_blocks")
            .help("h")
            .labelNames(labels)
            .register(reg);
    Counter overlap =
        Counter.builder()
            .name("llm_kv_hit_rate_overlap_blocks")
            .help("h")
            .labelNames(labels)
            .register(reg);
    Target t = e.target();
    for (Worker w : e.workers()) {
      String[] v = {t.namespace(), t.component(), t.endpoint(), Long.toString(w.key().workerId())};
      ForwardPassMetrics m = w.metrics();
      kvActive.labelValues(v).set(m.kvActiveBlocks());
      kvTotal.labelValues(v).set(m.kvTotalBlocks());
      slotsActive.labelValues(v).set(m.requestActiveSlots());
      slotsTotal.labelValues(v).set(m.requestTotalSlots());
      hit.labelValues(v).set(m.gpuPrefixCacheHitRate());
      waiting.labelValues(v).set(m.numRequestsWaiting());
      usage.labelValues(v).set(m.gpuCacheUsagePerc());
      age.labelValues(v).set(w.ageSeconds());
    }
    for (HitRates.Counter c : hitRates.read()) {
      String[] v = {t.namespace(), t.component(), t.endpoint(), Long.toString(c.workerId())};
      isl.labelValues(v).inc(c.islBlocks());
      overlap.labelValues(v).inc(c.overlapBlocks());
    }
    return reg;
  }

  @Benchmark
  public void collectorText() throws IOException {
    text.write(DISCARD, ours.scrape());
  }

  @Benchmark
  public void collectorTextNewSnapshot() throws IOException {
    text.write(DISCARD, oursNewSnapshot.scrape());
  }

  /**
   * What /metrics renders for a snapshot it has not seen: the fleet's gauges written ahead by
   * FleetText, merged with the hit-rate counters the client's writer writes.
   */
  @Benchmark
  public byte[] aheadTextNewSnapshot() throws IOException {
    return Exposition.render(oursNewSnapshot, newSnapshotCollector, text, ESCAPING);
  }

  /** The fleet's gauges of a new snapshot written ahead by FleetText, alone. */
  @Benchmark
  public Object aheadFamiliesNewSnapshot() {
    return newSnapshotCollector.families();
  }

  @Benchmark
  public byte[] aheadOpenMetricsNewSnapshot() throws IOException {
    return Exposition.render(oursNewSnapshot, newSnapshotCollector, openMetrics, ESCAPING);
  }

  @Benchmark
  public void clientGaugesText() throws IOException {
    text.write(DISCARD, clientGauges.scrape());
  }

  @Benchmark
  public void collectorOpenMetrics() throws IOException {
    openMetrics.write(DISCARD, ours.scrape());
  }

  @Benchmark
  public void clientGaugesOpenMetrics() throws IOException {
    openMetrics.write(DISCARD, clientGauges.scrape());
  }

  @Benchmark
  public void collectorTextGzip() throws IOException {
    try (GZIPOutputStream gz = new GZIPOutputStream(sink(), 64 * 1024)) {
      text.write(gz, ours.scrape());
    }
  }

  @Benchmark
  public void clientGaugesTextGzip() throws IOException {
    try (GZIPOutputStream gz = new GZIPOutputStream(sink(), 64 * 1024)) {
      text.write(gz, clientGauges.scrape());
    }
  }
}
