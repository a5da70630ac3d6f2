package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynamometrics.it.Exposition.Sample;
import io.dynamometrics.it.RealDynamo.Load;
import io.dynamometrics.it.RealDynamo.Router;
import io.dynamometrics.it.RealDynamo.Script;
import io.dynamometrics.it.RealDynamo.Worker;
import io.dynamometrics.wire.ServiceNames;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The packaged service against real NVIDIA Dynamo: the runtime, KV router and mock worker of each
 * release from PyPI, and Dynamo's own {@code metrics} aggregator as the oracle, on a real {@code
 * nats-server -js} and etcd. Each check runs per release; its outcome lands in {@code
 * target/conformance/results.tsv} ({@link ConformanceTable}), which {@code bin/conformance} prints.
 * A release that cannot be installed here shows as skipped, with pip's reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(ConformanceTable.class)
class ConformanceIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String COMPONENT = "VllmWorker";
  private static final String ENDPOINT = "load_metrics";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Servers.Nats nats;
  private Servers.Etcd etcd;
  private Connection client;
  private Map<String, String> env;
  @RegisterExtension final Started started = new Started();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  static Stream<String> runtimes() {
    return RealDynamo.chosen(RealDynamo.RUNTIMES, RealDynamo.POLLED).stream();
  }

  static Stream<String> routers() {
    return RealDynamo.chosen(RealDynamo.ROUTERS).stream();
  }

  static Stream<String> oracles() {
    return RealDynamo.chosen(RealDynamo.ORACLES).stream();
  }

  @BeforeAll
  void startServers() throws Exception {
    nats = started.nats("-js", "-sd", Files.createTempDirectory("js").toString());
    etcd = started.etcd();
    client = started.server(Nats.connect(nats.url()));
    started.server(pool::shutdownNow);
    env = RealDynamo.env(nats.url(), etcd.url());
  }

  private void need(String kind, String version) throws Exception {
    String why = RealDynamo.unavailable(kind, version).orElse(null);
    assumeThat(why)
        .as("ai-dynamo%s %s: %s", kind.equals("sdk") ? "" : "-runtime", version, why)
        .isNull();
  }

  private static String namespace(String test, String version) {
    return test + version.replace(".", "");
  }

  /** Starts one real worker per load, all at once (each takes a few seconds to join). */
  private List<Worker> workers(String version, String ns, Load... loads) throws Exception {
    List<Future<Worker>> starting = new ArrayList<>();
    for (Load load : loads) {
      starting.add(pool.submit(() -> new Worker(version, env, ns, COMPONENT, load)));
    }
    List<Worker> out = new ArrayList<>();
    for (Future<Worker> f : starting) {
      out.add(started.server(f.get()));
    }
    return out;
  }

  /**
   * Starts the packaged service on {@code port} against the test's NATS (and etcd, with {@code
   * --etcd}).
   */
  private Process ours(String ns, int port, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("--namespace", ns));
    args.addAll(List.of(more));
    return started.jar(
        "conformance-" + ns + "-" + port,
        Map.of("ETCD_ENDPOINTS", etcd.url()),
        Jar.serving(nats.url(), port, args.toArray(String[]::new)));
  }

  /** Starts the service on a free port; returns the port. */
  private int aggregator(String ns, String... more) throws Exception {
    int port = Servers.freePort();
    ours(ns, port, more);
    return port;
  }

  private static Exposition scrape(int port) throws Exception {
    return Exposition.parse(Jar.get(port, "/metrics").body());
  }

  /** Scrapes until {@code ok} holds; returns that scrape. */
  private static Exposition await(int port, Predicate<Exposition> ok) throws Exception {
    String body = Jar.await(port, "/metrics", b -> ok.test(Exposition.parse(b)), WAIT);
    return Exposition.parse(body);
  }

  private static Map<String, String> worker(String ns, Worker w) {
    Map<String, String> labels =
        new HashMap<>(
            Map.of(
                "namespace",
                ns,
                "component",
                COMPONENT,
                "endpoint",
                ENDPOINT,
                "worker_id",
                Long.toString(w.id)));
    if (w.version.equals("0.3.0") || w.version.equals("0.3.1")) {
      labels.put("dp_rank", "0"); // these two releases always send data_parallel_rank, 0 by default
    }
    return labels;
  }

  private static Map<String, String> aggregate(String ns) {
    return Map.of("namespace", ns, "component", COMPONENT, "endpoint", ENDPOINT);
  }

  /** Every per-worker series of metrics.md equals what the worker published. */
  private static void assertServes(Exposition e, String ns, Worker w, Load l) {
    Map<String, String> labels = worker(ns, w);
    assertThat(e.find("llm_kv_blocks_active", labels)).as("worker %d in\n%s", w.id, e).isPresent();
    assertThat(e.value("llm_kv_blocks_active", labels)).isEqualTo(l.kvActive());
    assertThat(e.value("llm_kv_blocks_total", labels)).isEqualTo(l.kvTotal());
    assertThat(e.value("llm_requests_active_slots", labels)).isEqualTo(l.active());
    assertThat(e.value("llm_requests_total_slots", labels)).isEqualTo(l.total());
    assertThat(e.value("llm_requests_waiting", labels)).isEqualTo(l.waiting());
    // f32 on Dynamo's side, widened to f64 in the stats JSON: the same double the service serves
    assertThat(e.value("llm_gpu_cache_usage_ratio", labels)).isEqualTo((double) l.usage());
    assertThat(e.value("llm_kv_hit_rate_percent", labels)).isEqualTo((double) l.hitRate());
    assertThat(e.value("llm_worker_stats_age_seconds", labels)).isBetween(0.0, 5.0);
  }

  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("runtimes")
  void workers(String version) throws Exception {
    need("runtime", version);
    String ns = namespace("workers", version);
    Load a = new Load(3, 8, 40, 1024, 2, 0.04f, 0.25f);
    Load b = new Load(5, 16, 60, 2048, 0, 0.03f, 0.5f);
    List<Worker> w = workers(version, ns, a, b);
    int port =
        aggregator(ns, "--component", COMPONENT, "--endpoint", ENDPOINT, "--poll-interval", "0.5");
    Exposition e = await(port, x -> x.named("llm_kv_blocks_active").size() == 2);
    assertServes(e, ns, w.get(0), a);
    assertServes(e, ns, w.get(1), b);
    Map<String, String> agg = aggregate(ns);
    assertThat(e.value("llm_workers", agg)).isEqualTo(2);
    assertThat(e.value("llm_load_avg", agg)).isEqualTo(50);
    assertThat(e.value("llm_load_std", agg)).isEqualTo(10);
    assertThat(e.value("llm_load_min", agg)).isEqualTo(40);
    assertThat(e.value("llm_load_max", agg)).isEqualTo(60);
    assertThat(e.value("llm_load_imbalance_ratio", agg)).isEqualTo(1.2);
    assertThat(e.value("llm_kv_usage_ratio", agg)).isEqualTo(100.0 / 3072);
    assertThat(e.value("llm_request_slots_usage_ratio", agg)).isEqualTo(8.0 / 24);
    assertThat(e.value("llm_fleet_requests_waiting", agg)).isEqualTo(2);
    assertThat(
            e.value(
                "dynamo_metrics_decode_errors_total",
                Map.of("source", "stats", "reason", "not_metrics")))
        .isZero();

    // a value republished mid-run is served by the next poll (interval 0.5 s)
    Load a2 = new Load(7, 8, 90, 1024, 4, 0.09f, 0.75f);
    w.get(0).publish(a2);
    long t0 = System.nanoTime();
    e = await(port, x -> x.value("llm_kv_blocks_active", worker(ns, w.get(0))) == 90);
    double served = (System.nanoTime() - t0) / 1e9;
    assertServes(e, ns, w.get(0), a2);
    assertThat(served).as("seconds from publish to served, polling every 0.5 s").isLessThan(1.0);

    // SIGKILL: the worker leaves by the staleness rule (3 polls of 0.5 s), not at once and not
    // never
    w.get(1).kill();
    t0 = System.nanoTime();
    e = await(port, x -> x.named("llm_kv_blocks_active").size() == 1);
    double left = (System.nanoTime() - t0) / 1e9;
    assertThat(left).as("seconds from SIGKILL to gone").isBetween(0.7, 3.0);
    assertThat(e.find("llm_kv_blocks_active", worker(ns, w.get(1)))).isEmpty();
    assertThat(e.value("llm_workers", agg)).isEqualTo(1);
    assertThat(e.value("llm_load_avg", agg)).isEqualTo(90);
  }

  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("runtimes")
  void registrations(String version) throws Exception {
    need("runtime", version);
    String ns = namespace("reg", version);
    Load a = new Load(1, 8, 10, 100, 0, 0.1f, 0.2f);
    Load b = new Load(2, 8, 20, 100, 1, 0.2f, 0.4f);
    List<Worker> w = workers(version, ns, a, b);
    // the real registrations, in the key layout of this release
    String layout =
        version.compareTo("0.3.0") < 0
            ? ns + "/components/" + COMPONENT + "/" + ENDPOINT + ":"
            : "instances/" + ns + "/" + COMPONENT + "/" + ENDPOINT + ":";
    assertThat(etcd.keys(layout))
        .containsExactlyInAnyOrder(
            layout + Long.toHexString(w.get(0).id), layout + Long.toHexString(w.get(1).id));
    // no --component: the component is found from the services' $SRV.INFO descriptions; a staleness
    // of 200 polls leaves only the registration to tell that a worker died
    int port = aggregator(ns, "--etcd", "--poll-interval", "0.5", "--staleness", "200");
    Exposition e =
        await(
            port,
            x ->
                x.named("llm_kv_blocks_active").size() == 2
                    && x.value("llm_workers_registered", aggregate(ns)) == 2);
    assertServes(e, ns, w.get(0), a);
    assertServes(e, ns, w.get(1), b);
    assertThat(e.named("llm_workers")).extracting(Sample::labels).containsExactly(aggregate(ns));

    w.get(1).kill();
    long t0 = System.nanoTime();
    e = await(port, x -> x.named("llm_kv_blocks_active").size() == 1);
    double left = (System.nanoTime() - t0) / 1e9;
    assertThat(etcd.keys(layout))
        .as("the dead worker's key is gone when it leaves")
        .containsExactly(layout + Long.toHexString(w.get(0).id));
    assertThat(left)
        .as("seconds from SIGKILL to gone: the 10 s lease, far below 200 polls")
        .isBetween(3.0, 20.0);
    assertThat(e.value("llm_workers_registered", aggregate(ns))).isEqualTo(1);
    assertServes(e, ns, w.get(0), a);
  }

  /**
   * Sums of isl and overlap blocks per worker id, counted by a subscriber independent of the
   * service.
   */
  private static final class EventCounter {
    final Map<String, long[]> sums = new ConcurrentHashMap<>();
    final AtomicLong events = new AtomicLong();
    final List<String> payloads = new CopyOnWriteArrayList<>();

    void add(byte[] payload) {
      try {
        JsonNode n = JSON.readTree(payload);
        long[] s = sums.computeIfAbsent(n.path("worker_id").asText(), k -> new long[2]);
        synchronized (s) {
          s[0] += n.path("isl_blocks").asLong();
          s[1] += n.path("overlap_blocks").asLong();
        }
        payloads.add(new String(payload, StandardCharsets.UTF_8));
        events.incrementAndGet();
      } catch (IOException e) {
        throw new AssertionError(
            "a real Dynamo event that is not JSON: " + new String(payload, StandardCharsets.UTF_8),
            e);
      }
    }
  }

  private EventCounter countEvents(String ns) throws Exception {
    EventCounter counter = new EventCounter();
    Dispatcher d = client.createDispatcher(m -> counter.add(m.getData()));
    d.subscribe("namespace." + ns + ".kv-hit-rate");
    client.flush(Duration.ofSeconds(5));
    started.server(() -> client.closeDispatcher(d));
    return counter;
  }

  /** Waits until the service's two counters equal the independent sums for every worker id. */
  private static Exposition awaitSameCounts(int port, String ns, EventCounter counter)
      throws Exception {
    return await(
        port,
        x ->
            counter.sums.entrySet().stream()
                    .allMatch(
                        s -> {
                          Map<String, String> l = Map.of("namespace", ns, "worker_id", s.getKey());
                          return x.value("llm_kv_hit_rate_isl_blocks_total", l) == s.getValue()[0]
                              && x.value("llm_kv_hit_rate_overlap_blocks_total", l)
                                  == s.getValue()[1];
                        })
                && x.value("dynamo_metrics_events_total", Map.of("namespace", ns))
                    == counter.events.get());
  }

  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("routers")
  void events(String version) throws Exception {
    need("runtime", version);
    String ns = namespace("events", version);
    // values no release's scheduler dies on: an active slot, a waiting request, KV capacity
    Load load = new Load(1, 8, 0, 100, 1, 0f, 0f);
    List<Worker> w = workers(version, ns, load, load);
    EventCounter counter = countEvents(ns);
    int port =
        aggregator(ns, "--component", COMPONENT, "--endpoint", ENDPOINT, "--poll-interval", "0.5");
    await(port, x -> x.named("llm_kv_blocks_active").size() == 2);
    Router router = started.server(new Router(version, env, ns, COMPONENT, 16));
    List<Long> chosen = new ArrayList<>();
    for (int n : new int[] {20, 40, 64}) { // no cached blocks yet: overlap 0
      chosen.add(router.schedule(tokens(1000 * n, n)));
    }
    router.store(
        w.get(0).id, tokens(1, 48)); // a real KvEventPublisher: worker 0 holds three blocks
    Thread.sleep(500); // a window for the stored blocks to reach the real router (no signal of it)
    for (int n : new int[] {48, 64, 80}) { // the same prefix: overlap on worker 0
      chosen.add(router.schedule(tokens(1, n)));
    }
    assertThat(chosen).allMatch(id -> id == w.get(0).id || id == w.get(1).id);
    Exposition e = awaitSameCounts(port, ns, counter);
    assertThat(counter.events.get())
        .as("one event per schedule: %s", counter.payloads)
        .isEqualTo(6);
    assertThat(counter.sums.keySet())
        .isSubsetOf(Long.toString(w.get(0).id), Long.toString(w.get(1).id));
    assertThat(counter.sums.values().stream().mapToLong(s -> s[1]).sum())
        .as("overlap from the stored blocks: %s", counter.payloads)
        .isPositive();
    assertThat(
            e.value(
                "dynamo_metrics_decode_errors_total",
                Map.of("source", "event", "reason", "invalid_event")))
        .isZero();
  }

  private static List<Integer> tokens(int first, int count) {
    return IntStream.range(first, first + count).boxed().toList();
  }

  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("oracles")
  void mockWorkerEvents(String version) throws Exception {
    need("sdk", version);
    // Dynamo's mock_worker serves one my_endpoint in namespace dynamo and sends one random
    // hit-rate event a second for worker ids that answer no stats
    String ns = "dynamo";
    EventCounter counter = countEvents(ns);
    // discovery, not --component: its component is my_component up to 0.3.1 and MyComponent in
    // 0.3.2
    int port = aggregator(ns, "--poll-interval", "0.5");
    // connected (the event subscription follows within milliseconds; mock_worker takes over a
    // second to send its first)
    await(port, x -> x.value("dynamo_metrics_nats_connected", Map.of()) == 1);
    Script mock =
        started.server(
            new Script(
                List.of(RealDynamo.binary(version, "mock_worker").toString()),
                env,
                "mock_worker-" + version));
    Exposition e =
        await(port, x -> x.named("llm_kv_blocks_active").size() == 1 && counter.events.get() >= 3);
    assertThat(e.named("llm_kv_blocks_total"))
        .singleElement()
        .extracting(Sample::value)
        .isEqualTo(100.0);
    mock.close(); // no more events: the sums are final
    Thread.sleep(300); // a window for events already in flight to arrive
    awaitSameCounts(port, ns, counter);
    assertThat(counter.sums).hasSizeGreaterThanOrEqualTo(1);
  }

  /** l2c: the service's aggregate event carries exactly what each real worker published. */
  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("runtimes")
  void l2c(String version) throws Exception {
    need("runtime", version);
    String ns = namespace("l2c", version);
    Load a = new Load(3, 8, 40, 1024, 2, 0.04f, 0.25f);
    Load b = new Load(5, 16, 60, 2048, 0, 0.03f, 0.5f);
    List<Worker> w = workers(version, ns, a, b);
    List<JsonNode> events = l2cEvents(ns);
    aggregator(ns, "--component", COMPONENT, "--endpoint", ENDPOINT, "--poll-interval", "0.5");
    JsonNode event = awaitL2c(events, 2);
    boolean ranked = version.equals("0.3.0") || version.equals("0.3.1");
    String service =
        version.compareTo("0.2.1") < 0
            ? ServiceNames.g1(ns, COMPONENT)
            : ServiceNames.g2(ns, COMPONENT);
    for (int i = 0; i < 2; i++) {
      Load l = i == 0 ? a : b;
      JsonNode e = event.path("endpoints").path(Long.toString(w.get(i).id));
      assertThat(flatten(e.path("data")).path("data_parallel_rank").isIntegralNumber())
          .as("rank sent")
          .isEqualTo(ranked);
      assertThat(e.path("name").asText()).isEqualTo("worker-" + w.get(i).id);
      assertThat(e.path("subject").asText())
          .isEqualTo(service + "." + ENDPOINT + "-" + Long.toHexString(w.get(i).id));
      assertThat(e.path("data").has("engine_load_metrics"))
          .as("l2c data form")
          .isEqualTo(nestedL2c(version));
      assertSameMetrics(e.path("data"), l);
    }
    assertThat(event.path("load_avg").asDouble()).isEqualTo(50.0);
    assertThat(event.path("load_std").asDouble()).isEqualTo(10.0);
  }

  /**
   * The seven numbers of an l2c {@code data}, in either form: flat (G1/G2), or G3's {@code
   * {"engine_load_metrics": {worker_stats, kv_stats}}} as Dynamo 0.3.2's aggregator writes it.
   */
  private static JsonNode flatten(JsonNode data) {
    JsonNode inner = data.path("engine_load_metrics");
    if (inner.isMissingNode()) {
      return data;
    }
    ObjectNode flat = JSON.createObjectNode();
    flat.setAll((ObjectNode) inner.path("worker_stats"));
    flat.setAll((ObjectNode) inner.path("kv_stats"));
    return flat;
  }

  /** G3 releases (0.3.2 on) wrap l2c data; earlier ones send it flat. */
  private static boolean nestedL2c(String version) {
    return version.compareTo("0.3.2") >= 0;
  }

  private static void assertSameMetrics(JsonNode wrapped, Load l) {
    JsonNode data = flatten(wrapped);
    assertThat(data.path("request_active_slots").asLong()).isEqualTo(l.active());
    assertThat(data.path("request_total_slots").asLong()).isEqualTo(l.total());
    assertThat(data.path("kv_active_blocks").asLong()).isEqualTo(l.kvActive());
    assertThat(data.path("kv_total_blocks").asLong()).isEqualTo(l.kvTotal());
    assertThat(data.path("num_requests_waiting").asLong()).isEqualTo(l.waiting());
    assertThat((float) data.path("gpu_cache_usage_perc").asDouble()).isEqualTo(l.usage());
    assertThat((float) data.path("gpu_prefix_cache_hit_rate").asDouble()).isEqualTo(l.hitRate());
  }

  /** Every l2c event on the test's subject from now on, decoded. */
  private List<JsonNode> l2cEvents(String ns) throws Exception {
    List<JsonNode> events = new CopyOnWriteArrayList<>();
    Dispatcher d =
        client.createDispatcher(
            m -> {
              try {
                events.add(JSON.readTree(m.getData()));
              } catch (IOException e) {
                events.add(
                    JSON.getNodeFactory()
                        .textNode("not JSON: " + new String(m.getData(), StandardCharsets.UTF_8)));
              }
            });
    d.subscribe("namespace." + ns + ".l2c." + COMPONENT + "." + ENDPOINT);
    client.flush(Duration.ofSeconds(5));
    started.server(() -> client.closeDispatcher(d));
    return events;
  }

  private static JsonNode awaitL2c(List<JsonNode> events, int endpoints) {
    return Awaitility.await("an l2c event with " + endpoints + " endpoints")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              for (int i = events.size() - 1; i >= 0; i--) {
                if (events.get(i).path("endpoints").size() == endpoints) {
                  return events.get(i);
                }
              }
              return null;
            },
            Objects::nonNull);
  }

  /**
   * Dynamo's own aggregator and the service, side by side on the same real workers: every series
   * both expose agrees, both l2c events agree field by field, and each place where they differ on
   * purpose is shown by the same run.
   */
  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("oracles")
  void oracle(String version) throws Exception {
    need("runtime", version);
    need("sdk", version);
    String ns = namespace("oracle", version);
    Load[] loads = {
      new Load(3, 8, 40, 1024, 2, 0.04f, 0.25f),
      new Load(5, 16, 60, 2048, 0, 0.03f, 0.5f),
      new Load(1, 4, 20, 512, 1, 0.07f, 0.125f)
    };
    List<Worker> w = workers(version, ns, loads);
    String service =
        version.compareTo("0.2.1") < 0
            ? ServiceNames.g1(ns, COMPONENT)
            : ServiceNames.g2(ns, COMPONENT);
    List<JsonNode> events = l2cEvents(ns);
    String[] flags = {"--component", COMPONENT, "--endpoint", ENDPOINT, "--poll-interval", "1"};

    // 1. ours alone publishes l2c
    Process oursAlone = ours(ns, Servers.freePort(), flags);
    JsonNode ourL2c = awaitL2c(events, 3);
    Servers.stop(oursAlone, Duration.ofSeconds(5));

    // 2. theirs alone: its l2c, and how long its poll takes (stats request to l2c event)
    int theirPort = Servers.freePort();
    List<Long> requests = new CopyOnWriteArrayList<>();
    List<Long> published = new CopyOnWriteArrayList<>();
    Dispatcher timing =
        client.createDispatcher(
            m -> (m.getSubject().startsWith("$SRV") ? requests : published).add(System.nanoTime()));
    timing.subscribe("$SRV.STATS." + service);
    timing.subscribe("namespace." + ns + ".l2c." + COMPONENT + "." + ENDPOINT);
    started.server(() -> client.closeDispatcher(timing));
    events.clear();
    started.process(
        Servers.start(
            Jar.LOGS.resolve("oracle-theirs-" + version + ".log"),
            env,
            RealDynamo.binary(version, "metrics").toString(),
            "--namespace",
            ns,
            "--component",
            COMPONENT,
            "--endpoint",
            ENDPOINT,
            "--port",
            Integer.toString(theirPort),
            "--poll-interval",
            "1"));
    JsonNode theirL2c = awaitL2c(events, 3);
    Thread.sleep(2500); // the window measured: two and a half of their 1 s polls
    List<Double> theirPolls = RealDynamo.gatherSeconds(requests, published);

    // the same l2c, field by field (their f32s are written shortest, ours as received: compared as
    // f32)
    assertThat(theirL2c.path("endpoints").properties()).hasSize(3);
    for (Worker x : w) {
      JsonNode theirs = theirL2c.path("endpoints").path(Long.toString(x.id));
      JsonNode mine = ourL2c.path("endpoints").path(Long.toString(x.id));
      assertThat(mine.path("name").asText())
          .isEqualTo(theirs.path("name").asText())
          .isEqualTo("worker-" + x.id);
      assertThat(mine.path("subject").asText()).isEqualTo(theirs.path("subject").asText());
      assertThat(mine.path("data").has("engine_load_metrics"))
          .as("the same l2c data form")
          .isEqualTo(theirs.path("data").has("engine_load_metrics"));
      for (String field :
          List.of(
              "request_active_slots",
              "request_total_slots",
              "kv_active_blocks",
              "kv_total_blocks",
              "num_requests_waiting",
              "gpu_cache_usage_perc",
              "gpu_prefix_cache_hit_rate")) {
        assertThat((float) flatten(mine.path("data")).path(field).asDouble())
            .as(field)
            .isEqualTo((float) flatten(theirs.path("data")).path(field).asDouble());
      }
    }
    assertThat(ourL2c.path("load_avg").asDouble())
        .isEqualTo(theirL2c.path("load_avg").asDouble())
        .isEqualTo(40.0);
    assertThat(ourL2c.path("load_std").asDouble())
        .isCloseTo(theirL2c.path("load_std").asDouble(), offset(1e-9));

    // 3. ours beside theirs: every series both expose agrees, worker by worker
    int ourPort = Servers.freePort();
    ours(ns, ourPort, flags);
    Exposition mine = await(ourPort, x -> x.named("llm_kv_blocks_active").size() == 3);
    Exposition theirs = Exposition.parse(Jar.get(theirPort, "/metrics").body());
    List<Sample> shared =
        theirs.samples().stream().filter(s -> s.name().startsWith("llm_")).toList();
    assertThat(shared)
        .extracting(Sample::name)
        .contains(
            "llm_kv_blocks_active",
            "llm_kv_blocks_total",
            "llm_requests_active_slots",
            "llm_requests_total_slots",
            "llm_load_avg",
            "llm_load_std");
    for (Sample s : shared) {
      assertThat(mine.value(s.name(), s.labels()))
          .as("%s%s", s.name(), s.labels())
          .isEqualTo(s.value());
    }

    // differences on purpose, each from this run:
    // a) time per poll: theirs always waits its full 1 s timeout; ours ends with the last reply
    //    (measured over polls after our first, which knows no worker yet and ends on a stall)
    Thread.sleep(3000); // the window measured: three of our polls
    Exposition later = scrape(ourPort);
    double ourPoll =
        (later.value("dynamo_metrics_poll_duration_seconds_sum", aggregate(ns))
                - mine.value("dynamo_metrics_poll_duration_seconds_sum", aggregate(ns)))
            / (later.value("dynamo_metrics_poll_duration_seconds_count", aggregate(ns))
                - mine.value("dynamo_metrics_poll_duration_seconds_count", aggregate(ns)));
    assertThat(theirPolls).as("their seconds per poll").isNotEmpty().allMatch(t -> t >= 0.9);
    assertThat(ourPoll).as("our mean seconds per poll").isLessThan(0.2);
    System.out.printf(
        "oracle %s: seconds per poll, Dynamo's metrics %s, ours (mean) %.4f%n",
        version, theirPolls, ourPoll);

    // b) one bad reply: theirs pairs decoded metrics with endpoints by position, so a bad endpoint
    //    takes the next worker's values; ours counts it and keeps every value on its own worker
    Dispatcher bad =
        client.createDispatcher(
            m ->
                client.publish(
                    m.getReplyTo(),
                    badReply(service, nestedL2c(version)).getBytes(StandardCharsets.UTF_8)));
    bad.subscribe("$SRV.STATS." + service);
    client.flush(Duration.ofSeconds(5));
    Map<String, String> theirBad =
        Map.of("component", COMPONENT, "endpoint", ENDPOINT, "worker_id", "161");
    theirs = await(theirPort, x -> x.find("llm_kv_blocks_active", theirBad).isPresent());
    assertThat(theirs.value("llm_kv_blocks_active", theirBad))
        .as("their value for the worker whose reply was bad")
        .isEqualTo(7.0);
    mine = await(ourPort, x -> x.named("llm_kv_blocks_active").size() == 5);
    assertThat(mine.find("llm_kv_blocks_active", Map.of("worker_id", "161"))).isEmpty();
    assertThat(mine.value("llm_kv_blocks_active", Map.of("worker_id", "178"))).isEqualTo(7.0);
    assertThat(mine.value("llm_kv_blocks_active", Map.of("worker_id", "195"))).isEqualTo(9.0);
    for (int i = 0; i < 3; i++) {
      assertThat(mine.value("llm_kv_blocks_active", worker(ns, w.get(i))))
          .isEqualTo(loads[i].kvActive());
    }
    assertThat(
            mine.value(
                "dynamo_metrics_decode_errors_total",
                Map.of("source", "stats", "reason", "not_metrics")))
        .isPositive();
    client.closeDispatcher(bad);
    Thread.sleep(
        2500); // a whole poll of theirs without the bad reply, so that their values are right again

    // c) a killed worker: ours drops it by the staleness rule, theirs shows it forever
    w.get(2).kill();
    mine =
        await(
            ourPort,
            x ->
                x.find("llm_kv_blocks_active", worker(ns, w.get(2))).isEmpty()
                    && x.find("llm_kv_blocks_active", Map.of("worker_id", "195")).isEmpty());
    Thread.sleep(
        3000); // the window observed: three of their polls, and theirs still shows the dead
    theirs = Exposition.parse(Jar.get(theirPort, "/metrics").body());
    Map<String, String> dead =
        Map.of(
            "component", COMPONENT, "endpoint", ENDPOINT, "worker_id", Long.toString(w.get(2).id));
    assertThat(theirs.value("llm_kv_blocks_active", dead))
        .as("their series of a worker dead for seconds")
        .isEqualTo(20.0);
    assertThat(mine.value("llm_workers", aggregate(ns))).isEqualTo(2);

    // d) zero workers: ours has no aggregate and no worker series (never a number about nobody);
    //    theirs skips its update when no endpoint answers, so it keeps serving the last average and
    //    deviation (of the two workers alive before) and every dead worker's series
    // (together: a poll of theirs between two kills would average the one still alive)
    RealDynamo.Script.killTogether(w.get(0), w.get(1));
    mine = await(ourPort, x -> x.value("llm_workers", aggregate(ns)) == 0);
    assertThat(mine.find("llm_load_avg", aggregate(ns))).isEmpty();
    assertThat(mine.find("llm_load_std", aggregate(ns))).isEmpty();
    assertThat(mine.named("llm_kv_blocks_active")).isEmpty();
    Thread.sleep(3000); // the window observed: three of their polls with no worker at all
    theirs = Exposition.parse(Jar.get(theirPort, "/metrics").body());
    Map<String, String> theirAgg = Map.of("component", COMPONENT, "endpoint", ENDPOINT);
    assertThat(theirs.value("llm_load_avg", theirAgg))
        .as("their average, seconds after the last worker died")
        .isEqualTo(50.0);
    assertThat(theirs.value("llm_load_std", theirAgg)).isEqualTo(10.0);
    assertThat(theirs.named("llm_kv_blocks_active"))
        .as("their series of dead workers")
        .hasSizeGreaterThanOrEqualTo(3);
  }

  /**
   * One stats reply, complete as async-nats writes it (Dynamo's aggregator drops a reply that lacks
   * any field), with a bad endpoint (161) before two good ones (178: kv 7, 195: kv 9) in the
   * release's form (nested from 0.3.2, whose aggregator refuses the flat one).
   */
  private static String badReply(String service, boolean nested) {
    String good =
        nested
            ? "{\"worker_stats\":{\"data_parallel_rank\":null,\"request_active_slots\":1,\"request_total_slots\":8,\"num_requests_waiting\":0},"
                + "\"kv_stats\":{\"kv_active_blocks\":%d,\"kv_total_blocks\":100,\"gpu_cache_usage_perc\":0.5,\"gpu_prefix_cache_hit_rate\":0.5},"
                + "\"spec_decode_stats\":null}"
            : "{\"request_active_slots\":1,\"request_total_slots\":8,\"kv_active_blocks\":%d,\"kv_total_blocks\":100,"
                + "\"num_requests_waiting\":0,\"gpu_cache_usage_perc\":0.5,\"gpu_prefix_cache_hit_rate\":0.5}";
    StringBuilder out =
        new StringBuilder(
            "{\"type\":\"io.nats.micro.v1.stats_response\",\"name\":\""
                + service
                + "\",\"id\":\"ConformanceBadReply00\",\"version\":\"0.0.1\",\"started\":\"2025-05-01T00:00:00.000000000Z\",\"endpoints\":[");
    String[][] endpoints = {
      {"a1", "{\"val\":1}"}, {"b2", good.formatted(7)}, {"c3", good.formatted(9)}
    };
    for (int i = 0; i < endpoints.length; i++) {
      String subject = service + "." + ENDPOINT + "-" + endpoints[i][0];
      out.append(i == 0 ? "" : ",")
          .append("{\"name\":\"")
          .append(subject.replace('.', '-'))
          .append("\",\"subject\":\"")
          .append(subject)
          .append(
              "\",\"num_requests\":0,\"num_errors\":0,\"processing_time\":0,\"average_processing_time\":0,\"last_error\":\"\",")
          .append("\"data\":")
          .append(endpoints[i][1])
          .append(",\"queue_group\":\"q\"}");
    }
    return out.append("]}").toString();
  }
}
