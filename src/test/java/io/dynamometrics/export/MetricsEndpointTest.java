package io.dynamometrics.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.FleetState;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.web.WebServer;
import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.HitRateEvent;
import io.dynamometrics.wire.StatsEndpoint;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** /metrics as Prometheus sees it, through the real HTTP server and content negotiation. */
class MetricsEndpointTest {
  private static final Path GOLDEN = Path.of("src/test/resources/golden/metrics.txt");
  private static final Target T = new Target("dynamo", "MyComponent", "my_endpoint");
  private final AtomicReference<FleetSnapshot> fleet = new AtomicReference<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private WebServer server;
  private FleetState state;
  private HitRates hitRates;
  private final List<String> renders = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    FleetState state = new FleetState(3);
    state.record(
        T,
        List.of(
            new StatsEndpoint(
                "dynamo_mycomponent.my_endpoint-a1",
                161,
                new ForwardPassMetrics(1, 10, 10, 100, 0, 0.1, 0.25, -1)),
            new StatsEndpoint(
                "dynamo_mycomponent.my_endpoint-1f",
                31,
                new ForwardPassMetrics(4, 32, 300, 1000, 2, 0.3, 0.5, 0)),
            new StatsEndpoint(
                "dynamo_mycomponent.my_endpoint-1f",
                31,
                new ForwardPassMetrics(8, 32, 500, 1000, 0, 0.5, 0.5, 1))),
        3,
        0,
        4_000_000,
        4_000_000);
    Target idle = new Target("dynamo", "Prefill \"Worker\"\\x", "load\nmetrics");
    state.record(idle, List.of(), 0, 0, 0, 2_000_000);
    FleetSnapshot snapshot = state.snapshot(500_000_000, true);
    fleet.set(snapshot);
    HitRates hitRates = new HitRates(100, Long.MAX_VALUE);
    hitRates.record("dynamo", new HitRateEvent(161, 64, 48), 0);
    hitRates.record("dynamo", new HitRateEvent(161, 16, 0), 0);
    hitRates.update(snapshot, 0);
    PrometheusRegistry registry = new PrometheusRegistry();
    FleetCollector collector = new FleetCollector(fleet::get, hitRates, () -> true);
    registry.register(collector);
    server = new WebServer("127.0.0.1", 0, registry, () -> null, Map.of());
    server.renderOncePer(fleet::get, collector, Duration.ofMinutes(1), renders::add);
    this.state = state;
    this.hitRates = hitRates;
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<byte[]> get(String accept, boolean gzip) throws Exception {
    return get("/metrics", accept, gzip);
  }

  private HttpResponse<byte[]> get(String path, String accept, boolean gzip) throws Exception {
    var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
    if (accept != null) {
      b.header("Accept", accept);
    }
    if (gzip) {
      b.header("Accept-Encoding", "gzip");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void textFormatMatchesTheGoldenFile() throws Exception {
    HttpResponse<byte[]> r = get(null, false);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    String body = new String(r.body(), StandardCharsets.UTF_8);
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(GOLDEN, body);
    }
    assertThat(body).isEqualTo(Files.readString(GOLDEN));
  }

  @Test
  void openMetricsKeepsTheCompatibleGaugeName() throws Exception {
    HttpResponse<byte[]> r =
        get("application/openmetrics-text; version=1.0.0; charset=utf-8", false);
    assertThat(r.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/openmetrics-text");
    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertThat(body)
        .contains("# TYPE llm_kv_blocks_total gauge")
        .contains(
            "llm_kv_hit_rate_isl_blocks_total{component=\"MyComponent\",endpoint=\"my_endpoint\",namespace=\"dynamo\",worker_id=\"161\"} 80")
        .endsWith("# EOF\n");
  }

  @Test
  void gzipAndProtobufAreServed() throws Exception {
    HttpResponse<byte[]> r = get(null, true);
    assertThat(r.headers().firstValue("Content-Encoding")).hasValue("gzip");
    String body =
        new String(
            new GZIPInputStream(new ByteArrayInputStream(r.body())).readAllBytes(),
            StandardCharsets.UTF_8);
    assertThat(body).isEqualTo(Files.readString(GOLDEN));
    HttpResponse<byte[]> proto =
        get(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
            false);
    assertThat(proto.statusCode()).isEqualTo(200);
    assertThat(proto.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/vnd.google.protobuf");
    assertThat(new String(proto.body(), StandardCharsets.ISO_8859_1))
        .contains("llm_kv_blocks_total");
  }

  @Test
  void departedWorkersVanishAndIdleEndpointsHaveNoAggregates() throws Exception {
    String body = new String(get(null, false).body(), StandardCharsets.UTF_8);
    assertThat(body)
        .contains(
            "llm_workers{component=\"Prefill \\\"Worker\\\"\\\\x\",endpoint=\"load\\nmetrics\",namespace=\"dynamo\"} 0.0");
    assertThat(body).doesNotContain("NaN");
    assertThat(body.lines().filter(l -> l.startsWith("llm_load_avg{"))).hasSize(1);
  }

  @Test
  void aSnapshotIsRenderedOnceAndTheNextPollRendersAgain() throws Exception {
    String isl =
        "llm_kv_hit_rate_isl_blocks_total{component=\"MyComponent\",endpoint=\"my_endpoint\",namespace=\"dynamo\",worker_id=\"161\"} ";
    String first = new String(get(null, false).body(), StandardCharsets.UTF_8);
    assertThat(first).contains(isl + "80.0");
    hitRates.record("dynamo", new HitRateEvent(161, 20, 0), 0);
    // the same snapshot: the same bytes, plain and gzip
    assertThat(new String(get(null, false).body(), StandardCharsets.UTF_8)).isEqualTo(first);
    assertThat(
            new String(
                new GZIPInputStream(new ByteArrayInputStream(get(null, true).body()))
                    .readAllBytes(),
                StandardCharsets.UTF_8))
        .isEqualTo(first);
    // a filtered scrape goes to the client's handler, which reads the counters now
    assertThat(
            new String(
                get("/metrics?name[]=llm_kv_hit_rate_isl_blocks_total", null, false).body(),
                StandardCharsets.UTF_8))
        .contains(isl + "100.0")
        .doesNotContain("llm_kv_blocks_total");
    // the next poll's snapshot is rendered afresh
    fleet.set(state.snapshot(600_000_000, true));
    assertThat(new String(get(null, false).body(), StandardCharsets.UTF_8)).contains(isl + "100.0");
  }

  @Test
  void aScraperExpectedBeforeTheNextPollFindsItRenderedAhead() throws Exception {
    get(null, false); // the first scrape of a poll renders it
    assertThat(renders).containsExactly("on_scrape");
    // one scraper, no interval known yet: a new poll is not rendered ahead
    fleet.set(state.snapshot(600_000_000, true));
    server.published(fleet.get(), Duration.ofSeconds(1));
    Thread.sleep(300); // the scraper's interval
    get(null, false);
    assertThat(renders).containsExactly("on_scrape", "on_scrape");
    // now it scrapes every ~300 ms, and the next poll is a second away: rendered ahead
    fleet.set(state.snapshot(700_000_000, true));
    server.published(fleet.get(), Duration.ofSeconds(1));
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> renders.contains("ahead"));
    String body = new String(get(null, false).body(), StandardCharsets.UTF_8);
    assertThat(renders).containsExactly("on_scrape", "on_scrape", "ahead");
    // and what it served is the new poll's exposition, as the client's own handler writes it now
    assertThat(body)
        .isEqualTo(
            new String(get("/metrics?debug=text", null, false).body(), StandardCharsets.UTF_8));
  }
}
