package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.export.Series;
import io.dynamometrics.wire.ServiceNames;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import io.nats.client.support.JsonParser;
import io.nats.client.support.JsonValue;
import io.nats.service.Service;
import io.nats.service.ServiceBuilder;
import io.nats.service.ServiceEndpoint;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The packaged service against a real nats-server, real mock-worker processes and independent
 * workers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AggregatorIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** Every series of metrics.md that a pull-mode aggregator without etcd or push must show. */
  private static final List<String> EXPECTED =
      Stream.concat(
              Series.FLEET.stream(),
              Stream.of(
                  "dynamo_metrics_poll_duration_seconds_count",
                  "dynamo_metrics_poll_replies",
                  "dynamo_metrics_events_total",
                  "dynamo_metrics_nats_connected",
                  "dynamo_metrics_leader",
                  "dynamo_metrics_build_info"))
          .toList();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger NAMESPACES = new AtomicInteger();

  private Servers.Nats nats;
  private Connection client;
  @RegisterExtension final Started started = new Started();

  private static final String[] MY_ENDPOINT = {
    "--component", "MyComponent", "--endpoint", "my_endpoint"
  };

  @BeforeAll
  void startNats() throws Exception {
    nats = started.nats();
    client = started.server(Nats.connect(nats.url()));
  }

  private static String namespace() {
    return "it" + NAMESPACES.incrementAndGet();
  }

  private Process mock(String ns, int workers, String wire, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("--wire", wire));
    args.addAll(List.of(more));
    return started.jar(
        "mock-" + ns + "-" + started.processCount(),
        Jar.mockWorkers(
            ns, workers, nats.url(), 7 + started.processCount(), args.toArray(String[]::new)));
  }

  private int aggregator(String ns, String... more) throws Exception {
    int port = Servers.freePort();
    List<String> args = new ArrayList<>(List.of("--namespace", ns, "--poll-interval", "0.25"));
    args.addAll(List.of(more));
    started.jar("aggregator-" + ns, Jar.serving(nats.url(), port, args.toArray(String[]::new)));
    return port;
  }

  @ParameterizedTest
  @ValueSource(strings = {"g1", "g2", "g3"})
  void everyWireGenerationShowsEveryWorkerWithEverySeries(String wire) throws Exception {
    String ns = namespace();
    mock(ns, 3, wire);
    int port = aggregator(ns, MY_ENDPOINT);
    // every series appears: llm_load_imbalance_ratio only once some worker has active blocks (it is
    // absent while the mean is 0)
    String body =
        Jar.await(
            port,
            "/metrics",
            b ->
                Jar.samples(b, "llm_kv_blocks_active").size() == 3
                    && Jar.samples(b, "llm_kv_hit_rate_isl_blocks_total").size() == 3
                    && EXPECTED.stream().allMatch(name -> !Jar.samples(b, name).isEmpty()),
            WAIT);
    assertThat(Jar.samples(body, "llm_workers"))
        .containsExactly(
            "llm_workers{component=\"MyComponent\",endpoint=\"my_endpoint\",namespace=\""
                + ns
                + "\"} 3.0");
    assertThat(Jar.samples(body, "llm_kv_hit_rate_isl_blocks_total"))
        .allMatch(l -> l.contains("component=\"MyComponent\""));
    assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(200);
    assertThat(Jar.get(port, "/healthz").statusCode()).isEqualTo(200);
  }

  /**
   * A service polling workers that send KV events (given its component, or discovering it), scraped
   * in every format and read through its web API, never loads Jackson's object mapper nor the
   * platform MBean server: together about 10 MiB resident in a fleet of 100 (docs/benchmarks.md,
   * "Footprint"), on paths that have a byte writer or scanner of their own. Jackson stays the
   * reader of what the scanners do not take.
   */
  @ParameterizedTest(name = "discovery: {0}")
  @ValueSource(booleans = {false, true})
  void servingAFleetLoadsNeitherJacksonsObjectMapperNorTheMBeanServer(boolean discovery)
      throws Exception {
    String ns = namespace();
    mock(ns, 3, "g3", "--events-per-second", "50");
    Path classes = Jar.LOGS.resolve("aggregator-" + ns + "-classes.txt").toAbsolutePath();
    Files.deleteIfExists(classes);
    int port = Servers.freePort();
    started.jar(
        "aggregator-" + ns,
        Map.of("JDK_JAVA_OPTIONS", "-Xlog:class+load=info:file=" + classes),
        discovery
            ? Jar.serving(nats.url(), port, "--namespace", ns, "--poll-interval", "0.25")
            : Jar.watching(ns, nats.url(), port));
    Jar.await(
        port,
        "/metrics",
        b ->
            Jar.samples(b, "llm_kv_blocks_active").size() == 3
                && Jar.samples(b, "dynamo_metrics_events_total").stream()
                    .anyMatch(l -> !l.endsWith(" 0.0")),
        WAIT);
    HttpClient http = HttpClient.newHttpClient();
    for (String[] headers :
        List.of(
            new String[] {"Accept", "application/openmetrics-text; version=1.0.0"},
            new String[] {"Accept-Encoding", "gzip"},
            new String[] {
              "Accept",
              "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            })) {
      HttpResponse<byte[]> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                  .headers(headers)
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.statusCode()).as(headers[1]).isEqualTo(200);
    }
    assertThat(Jar.get(port, "/api/v1/fleet").body()).contains("\"workerId\"");
    assertThat(Jar.get(port, "/api/v1/history").body()).contains("\"points\"");
    assertThat(Jar.get(port, "/api/v1/nothing").statusCode()).isEqualTo(404);
    assertThat(Files.readString(classes))
        .contains(" io.dynamometrics.web.FleetApi ", " io.dynamometrics.wire.HitRateEventDecoder ")
        .doesNotContain(" com.fasterxml.jackson.databind.ObjectMapper ")
        .doesNotContain(" javax.management.MBeanServer ");
  }

  @Test
  void stoppedWorkersVanishAfterTheStalenessWindowAndTheRestStay() throws Exception {
    String ns = namespace();
    Process leaving = mock(ns, 1, "g2");
    mock(ns, 2, "g3");
    int port = aggregator(ns, MY_ENDPOINT);
    Jar.await(port, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 3, WAIT);
    leaving.destroyForcibly().waitFor();
    String body =
        Jar.await(port, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    assertThat(Jar.samples(body, "llm_workers")).singleElement().asString().endsWith(" 2.0");
    assertThat(Jar.samples(body, "llm_kv_blocks_total")).hasSize(2);
    assertThat(Jar.samples(body, "llm_worker_stats_age_seconds")).hasSize(2);
  }

  @Test
  void oneBadWorkerAmongGoodOnesAffectsOnlyItself() throws Exception {
    String ns = namespace();
    mock(ns, 2, "g3");
    String service = ServiceNames.g2(ns, "MyComponent");
    Dispatcher d =
        client.createDispatcher(
            m ->
                client.publish(
                    m.getReplyTo(),
                    ("{\"type\":\"io.nats.micro.v1.stats_response\",\"endpoints\":[{\"subject\":\""
                            + service
                            + ".my_endpoint-b2\",\"data\":{\"val\":10}}]}")
                        .getBytes(StandardCharsets.UTF_8)));
    d.subscribe("$SRV.STATS." + service);
    started.server(() -> client.closeDispatcher(d));
    int port = aggregator(ns, MY_ENDPOINT);
    String body =
        Jar.await(
            port,
            "/metrics",
            b ->
                Jar.samples(b, "llm_kv_blocks_active").size() == 2
                    && Jar.samples(b, "dynamo_metrics_decode_errors_total").stream()
                        .anyMatch(l -> l.contains("reason=\"not_metrics\"") && !l.endsWith(" 0.0")),
            WAIT);
    assertThat(body).doesNotContain("worker_id=\"178\"");
    assertThat(Jar.samples(body, "dynamo_metrics_decode_errors_total"))
        .anyMatch(l -> l.contains("source=\"stats\""));
    assertThat(Jar.samples(body, "dynamo_metrics_poll_replies"))
        .singleElement()
        .asString()
        .endsWith(" 3.0");
  }

  /**
   * A worker written with jnats' own service API, not with this project's code: G1 names are hashed
   * with Bouncy Castle's BLAKE3, G3 metrics are nested, and a decoy {@code my_endpoint2} is served.
   */
  @ParameterizedTest
  @ValueSource(strings = {"g1", "g2", "g3"})
  void aWorkerWrittenWithJnatsServiceApiIsAggregated(String wire) throws Exception {
    String ns = namespace();
    String raw = ns + "_MyComponent";
    String service =
        switch (wire) {
          case "g1" -> raw.toLowerCase(Locale.ROOT) + "_" + independentBlake3Hex(raw).substring(56);
          default -> raw.toLowerCase(Locale.ROOT);
        };
    String flat =
        "{\"data_parallel_rank\":null,\"request_active_slots\":12,\"request_total_slots\":100,\"kv_active_blocks\":61,"
            + "\"kv_total_blocks\":100,\"num_requests_waiting\":3,\"gpu_cache_usage_perc\":0.61,\"gpu_prefix_cache_hit_rate\":0.42}";
    String nested =
        "{\"worker_stats\":{\"data_parallel_rank\":null,\"request_active_slots\":12,\"request_total_slots\":100,"
            + "\"num_requests_waiting\":3},\"kv_stats\":{\"kv_active_blocks\":61,\"kv_total_blocks\":100,\"gpu_cache_usage_perc\":0.61,"
            + "\"gpu_prefix_cache_hit_rate\":0.42},\"spec_decode_stats\":null}";
    String data = wire.equals("g3") ? nested : flat;
    Service jnatsWorker =
        new ServiceBuilder()
            .connection(client)
            .name(service)
            .version("0.0.1")
            .description("Dynamo component MyComponent in namespace " + ns)
            .addServiceEndpoint(
                ServiceEndpoint.builder()
                    .endpointName("my_endpoint-7a1b2c3d4e5f6071")
                    .endpointSubject(service + ".my_endpoint-7a1b2c3d4e5f6071")
                    .endpointQueueGroup("q")
                    .handler(m -> m.respond(client, "{}"))
                    .statsDataSupplier(() -> parse(data))
                    .build())
            .addServiceEndpoint(
                ServiceEndpoint.builder()
                    .endpointName("my_endpoint2-7a1b2c3d4e5f6071")
                    .endpointSubject(service + ".my_endpoint2-7a1b2c3d4e5f6071")
                    .endpointQueueGroup("q")
                    .handler(m -> m.respond(client, "{}"))
                    .statsDataSupplier(() -> parse(data.replace("61", "99")))
                    .build())
            .build();
    var unused = jnatsWorker.startService(); // completes when the service stops
    started.server(() -> jnatsWorker.stop());
    int fixed = aggregator(ns, MY_ENDPOINT);
    String body =
        Jar.await(fixed, "/metrics", b -> !Jar.samples(b, "llm_kv_blocks_active").isEmpty(), WAIT);
    assertThat(Jar.samples(body, "llm_kv_blocks_active"))
        .containsExactly(
            "llm_kv_blocks_active{component=\"MyComponent\",endpoint=\"my_endpoint\",namespace=\""
                + ns
                + "\",worker_id=\"8798674938817896561\"} 61.0");
    assertThat(Jar.samples(body, "llm_requests_waiting"))
        .singleElement()
        .asString()
        .endsWith(" 3.0");
    int discovering = aggregator(ns); // no --component/--endpoint: both endpoints are found, apart
    body =
        Jar.await(
            discovering, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    assertThat(Jar.samples(body, "llm_kv_blocks_active"))
        .containsExactlyInAnyOrder(
            "llm_kv_blocks_active{component=\"MyComponent\",endpoint=\"my_endpoint\",namespace=\""
                + ns
                + "\",worker_id=\"8798674938817896561\"} 61.0",
            "llm_kv_blocks_active{component=\"MyComponent\",endpoint=\"my_endpoint2\",namespace=\""
                + ns
                + "\",worker_id=\"8798674938817896561\"} 99.0");
  }

  private static String independentBlake3Hex(String s) {
    org.bouncycastle.crypto.digests.Blake3Digest d =
        new org.bouncycastle.crypto.digests.Blake3Digest(256);
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    d.update(in, 0, in.length);
    byte[] out = new byte[32];
    d.doFinal(out, 0);
    return HexFormat.of().formatHex(out);
  }

  private static JsonValue parse(String json) {
    try {
      return JsonParser.parse(json);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void discoveryAggregatesEachComponentAndEndpointApart() throws Exception {
    String ns = namespace();
    mock(ns, 2, "g1", "--component", "VllmWorker", "--endpoint", "load_metrics");
    mock(ns, 1, "g3", "--component", "Prefill-Worker", "--endpoint", "load_metrics");
    int port = aggregator(ns);
    String body =
        Jar.await(
            port,
            "/metrics",
            b ->
                Jar.samples(b, "llm_workers").size() == 2
                    && Jar.samples(b, "llm_kv_blocks_active").size() == 3,
            WAIT);
    assertThat(Jar.samples(body, "llm_workers"))
        .containsExactlyInAnyOrder(
            "llm_workers{component=\"Prefill-Worker\",endpoint=\"load_metrics\",namespace=\""
                + ns
                + "\"} 1.0",
            "llm_workers{component=\"VllmWorker\",endpoint=\"load_metrics\",namespace=\""
                + ns
                + "\"} 2.0");
    assertThat(body).doesNotContain("endpoint=\"generate\"");
  }

  @Test
  void promtoolFindsNothingButTheKnownCompatibleName() throws Exception {
    String ns = namespace();
    mock(ns, 3, "g3");
    int port = aggregator(ns, MY_ENDPOINT);
    String body =
        Jar.await(
            port,
            "/metrics",
            b -> Jar.samples(b, "llm_kv_hit_rate_isl_blocks_total").size() == 3,
            WAIT);
    Process promtool =
        new ProcessBuilder(Servers.binary("promtool"), "check", "metrics")
            .redirectErrorStream(true)
            .start();
    promtool.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    promtool.getOutputStream().close();
    String out = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    promtool.waitFor(10, TimeUnit.SECONDS);
    List<String> findings = out.lines().filter(l -> !l.isBlank()).toList();
    assertThat(findings)
        .containsExactly(
            "llm_kv_blocks_total non-counter metrics should not have \"_total\" suffix");
  }

  @Test
  void gathersFinishFarBeforeTheTimeoutOnceEveryKnownWorkerAnswered() throws Exception {
    String ns = namespace();
    mock(ns, 3, "g3");
    int port =
        aggregator(
            ns, "--component", "MyComponent", "--endpoint", "my_endpoint", "--scrape-timeout", "1");
    Jar.await(port, "/metrics", b -> count(b, "+Inf") >= 12, WAIT);
    String body = Jar.get(port, "/metrics").body();
    double polls = count(body, "+Inf");
    double fast = count(body, "0.1");
    // The first gather has no one to wait for and runs to the timeout; later ones end early.
    assertThat(fast).as("gathers under 100 ms of %s", polls).isGreaterThanOrEqualTo(polls - 2);
  }

  private static double count(String body, String le) {
    return body.lines()
        .filter(
            l ->
                l.startsWith("dynamo_metrics_poll_duration_seconds_bucket")
                    && l.contains("le=\"" + le + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  @Test
  void l2cEventCarriesEveryWorkerAndTheLoadAggregate() throws Exception {
    String ns = namespace();
    mock(ns, 3, "g2");
    Subscription sub = client.subscribe("namespace." + ns + ".l2c.MyComponent.my_endpoint");
    started.server(sub::unsubscribe);
    aggregator(ns, MY_ENDPOINT);
    JsonNode event = null;
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Message m = sub.nextMessage(Duration.ofSeconds(1));
      if (m != null) {
        event = JSON.readTree(m.getData());
        if (event.get("endpoints").size() == 3) {
          break;
        }
      }
    }
    assertThat(event).isNotNull();
    assertThat(event.get("endpoints").size()).isEqualTo(3);
    double sum = 0;
    double sq = 0;
    for (JsonNode e : event.get("endpoints")) {
      double kv = e.get("data").get("kv_active_blocks").asDouble();
      sum += kv;
      sq += kv * kv;
      assertThat(e.get("name").asText()).startsWith("worker-");
      assertThat(e.get("subject").asText())
          .startsWith(ServiceNames.g2(ns, "MyComponent") + ".my_endpoint-");
    }
    double mean = sum / 3;
    assertThat(event.get("load_avg").asDouble()).isCloseTo(mean, Offset.offset(1e-9));
    assertThat(event.get("load_std").asDouble())
        .isCloseTo(Math.sqrt(Math.max(0, sq / 3 - mean * mean)), Offset.offset(1e-6));
  }

  @Test
  void badFlagsAndATakenPortGiveOneLineAndExitCode2() throws Exception {
    for (String[] args :
        new String[][] {
          {"--poll-interval", "0.01"},
          {"--port", "http"},
          {"--frobnicate"},
          {"--log-level", "loud"},
          {"--staleness", "0"},
          {"--nats-server", "http://x:1"}
        }) {
      Jar.Result r = Jar.run(args);
      assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(r.output())
          .as(String.join(" ", args))
          .contains(args[args.length - 1].replace("--", ""))
          .doesNotContain("Exception")
          .doesNotContain("\tat ");
    }
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Jar.Result r = Jar.run(Jar.serving(nats.url(), taken.getLocalPort()));
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.output())
          .contains(Integer.toString(taken.getLocalPort()))
          .doesNotContain("\tat ");
    }
  }

  @Test
  void sigtermStopsTheServiceCleanlyWithinFiveSeconds() throws Exception {
    String ns = namespace();
    mock(ns, 2, "g3");
    int port = aggregator(ns, MY_ENDPOINT);
    Jar.await(port, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    Process aggregator = started.lastProcess();
    long start = System.nanoTime();
    aggregator.destroy(); // SIGTERM
    assertThat(aggregator.waitFor(5, TimeUnit.SECONDS)).as("exited within 5 s").isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(Files.readString(Jar.LOGS.resolve("aggregator-" + ns + ".log")))
        .doesNotContain("\tat ")
        .doesNotContain("Exception");
  }

  @Test
  void servesWhileNatsIsAwayAndBecomesReadyWhenItArrives() throws Exception {
    int natsPort = Servers.freePort();
    int port = Servers.freePort();
    started.jar("aggregator-no-nats", Jar.watching("dynamo", "nats://127.0.0.1:" + natsPort, port));
    Jar.await(port, "/healthz", b -> true, WAIT);
    assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(503);
    assertThat(Jar.get(port, "/metrics").body()).contains("dynamo_metrics_nats_connected 0.0");
    Servers.Nats late = new Servers.Nats(Jar.LOGS, natsPort);
    try {
      await().atMost(WAIT).until(() -> Jar.get(port, "/readyz").statusCode(), s -> s == 200);
      assertThat(Jar.get(port, "/metrics").body()).contains("dynamo_metrics_nats_connected 1.0");
    } finally {
      late.close();
    }
    assertThat(Files.readString(Jar.LOGS.resolve("aggregator-no-nats.log")))
        .doesNotContain("\tat ");
  }
}
