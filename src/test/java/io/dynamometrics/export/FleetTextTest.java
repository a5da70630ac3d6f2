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
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fleet families written ahead ({@link FleetText}) merged with the registry's others are byte
 * for byte what the client library's writers produce for the whole registry, in text 0.0.4 and
 * OpenMetrics, for random fleets: odd label values, data-parallel ranks, missing aggregates,
 * several endpoints, hit-rate counters and other families sorting before, between and after.
 */
class FleetTextTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String[] NAMES = {
    "VllmWorker", "a\"b", "back\\slash", "new\nline", "ünï", "x"
  };

  private static FleetSnapshot randomFleet(Random rnd, HitRates hitRates) {
    FleetState state = new FleetState(3);
    int endpoints = 1 + rnd.nextInt(3);
    for (int e = 0; e < endpoints; e++) {
      Target t =
          new Target("ns" + rnd.nextInt(2), NAMES[rnd.nextInt(NAMES.length)] + e, "load_metrics");
      int workers = rnd.nextInt(40); // an endpoint without workers has no aggregates
      List<StatsEndpoint> replies = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        long lease = rnd.nextInt(3) == 0 ? rnd.nextLong() : 1000 + rnd.nextInt(1000);
        int ranks = rnd.nextInt(4) == 0 ? 2 : 1;
        for (int r = 0; r < ranks; r++) {
          long total = 1L + rnd.nextInt(5000);
          replies.add(
              new StatsEndpoint(
                  "ns_c.load_metrics-" + Long.toHexString(lease),
                  lease,
                  new ForwardPassMetrics(
                      rnd.nextInt(64),
                      64,
                      rnd.nextInt((int) total),
                      total,
                      rnd.nextInt(10),
                      rnd.nextDouble(),
                      rnd.nextInt(5) == 0 ? 1e-7 * rnd.nextDouble() : rnd.nextDouble(),
                      ranks == 2 ? r : ForwardPassMetrics.NO_RANK)));
          if (rnd.nextBoolean()) {
            hitRates.record(
                t.namespace(), new HitRateEvent(lease, 1 + rnd.nextInt(100), rnd.nextInt(2)), 0);
          }
        }
      }
      long end = 1_000_000L + rnd.nextInt(5_000_000);
      state.record(t, replies, replies.size(), 0, end, end);
    }
    FleetSnapshot s = state.snapshot(500_000_000L, true);
    hitRates.update(s, 0);
    return s;
  }

  private static String get(int port, String path, String accept) throws Exception {
    var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (accept != null) {
      b.header("Accept", accept);
    }
    return new String(
        HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray()).body(),
        StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void writtenAheadEqualsTheClientsWriters(long seed) throws Exception {
    Random rnd = new Random(seed);
    HitRates hitRates = new HitRates(10_000, Long.MAX_VALUE);
    AtomicReference<FleetSnapshot> fleet = new AtomicReference<>(randomFleet(rnd, hitRates));
    PrometheusRegistry registry = new PrometheusRegistry();
    FleetCollector collector = new FleetCollector(fleet::get, hitRates, () -> true);
    registry.register(collector);
    // families that sort before, between and after the fleet's
    Gauge.builder().name("a_first").help("Before everything.").register(registry).set(1);
    Gauge.builder()
        .name("dynamo_metrics_q")
        .help("After poll_replies.")
        .register(registry)
        .set(2.5);
    Counter.builder()
        .name("llm_kv_blocks_b")
        .help("Between two fleet families.")
        .labelNames("x")
        .register(registry)
        .labelValues("y\"z")
        .inc(3);
    Gauge.builder().name("zz_last").help("After everything.").register(registry).set(-1e-9);
    try (WebServer server = new WebServer("127.0.0.1", 0, registry, () -> null, Map.of())) {
      server.renderOncePer(fleet::get, collector, Duration.ofMinutes(1), when -> {});
      int port = server.port();
      // the client's own rendering of the same registry (debug views go to its handler)
      String text = get(port, "/metrics", null);
      String clientText = get(port, "/metrics?debug=text", null);
      assertThat(text)
          .contains("llm_kv_blocks_active")
          .contains("llm_kv_blocks_b_total")
          .isEqualTo(clientText);
      String om =
          get(port, "/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8");
      String clientOm = get(port, "/metrics?debug=openmetrics", null);
      assertThat(om).endsWith("# EOF\n").isEqualTo(clientOm);
    }
  }
}
