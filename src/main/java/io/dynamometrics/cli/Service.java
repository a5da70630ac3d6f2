package io.dynamometrics.cli;

import com.sun.net.httpserver.HttpHandler;
import io.dynamometrics.export.FleetCollector;
import io.dynamometrics.export.L2cPublisher;
import io.dynamometrics.export.Pusher;
import io.dynamometrics.export.SelfMetrics;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.FleetState;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Inbox;
import io.dynamometrics.fleet.LatestSnapshot;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.gpu.GpuMetrics;
import io.dynamometrics.gpu.Nvml;
import io.dynamometrics.gpu.NvmlException;
import io.dynamometrics.intake.PushIntake;
import io.dynamometrics.intake.ZmqIntake;
import io.dynamometrics.k8s.KubeElection;
import io.dynamometrics.k8s.KubeRoster;
import io.dynamometrics.poll.Discovery;
import io.dynamometrics.poll.PollLoop;
import io.dynamometrics.poll.Poller;
import io.dynamometrics.poll.Targets;
import io.dynamometrics.poll.WorkerRegistry;
import io.dynamometrics.transport.Transport;
import io.dynamometrics.web.FleetApi;
import io.dynamometrics.web.History;
import io.dynamometrics.web.StaticFiles;
import io.dynamometrics.web.WebServer;
import io.dynamometrics.web.WorkerKvHistory;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryPoolAllocationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmNativeMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The aggregator, assembled: HTTP first (so a taken port fails before anything else starts), then
 * the poll loop and the event subscription over the given transport.
 */
final class Service implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Service.class.getName());
  private static final Duration EVENT_SERIES_EXPIRY = Duration.ofMinutes(10);
  private static final int MAX_EVENT_SERIES = 100_000;
  private static final Duration DISCOVERY_REFRESH = Duration.ofSeconds(5);

  final PrometheusRegistry registry = new PrometheusRegistry();
  final LatestSnapshot latest = new LatestSnapshot();
  final HitRates hitRates = new HitRates(MAX_EVENT_SERIES, EVENT_SERIES_EXPIRY.toNanos());
  private final List<AutoCloseable> parts = new ArrayList<>();
  private static final Duration HISTORY = Duration.ofMinutes(15);

  final History history;
  private final WorkerKvHistory workerKv = new WorkerKvHistory();
  private final WebServer web;
  private volatile Transport transport;

  /** Nobody leads before {@link #start}: an election may still be running. */
  private volatile BooleanSupplier leader = () -> false;

  private volatile boolean started;
  private volatile WorkerRegistry registrations;
  private volatile ZmqIntake zmqIntake;

  /** The ZMQ publishers by the state of their connection, by label; empty without the intake. */
  private Map<String, Integer> eventPublishers() {
    ZmqIntake z = zmqIntake;
    if (z == null) {
      return Map.of();
    }
    Map<String, Integer> out = new java.util.HashMap<>();
    z.publishers().forEach((state, n) -> out.put(state.label, n));
    return out;
  }

  private final SelfMetrics self;

  /**
   * The client library's {@code jvm_*} and {@code process_*} series: those of its {@code
   * JvmMetrics}, with {@code jvm_native_memory_*} only when native memory tracking is on. Those
   * series come from a diagnostic command through the platform MBean server, which costs 2.6-4.8
   * MiB resident in probes (JMX and the JDK's diagnostic commands, loaded to report nothing when
   * tracking is off, as it is by default; docs/benchmarks.md, the footprint row).
   */
  static void registerJvmMetrics(PrometheusRegistry registry) {
    JvmThreadsMetrics.builder().register(registry);
    JvmBufferPoolMetrics.builder().register(registry);
    JvmClassLoadingMetrics.builder().register(registry);
    JvmCompilationMetrics.builder().register(registry);
    JvmGarbageCollectorMetrics.builder().register(registry);
    JvmMemoryPoolAllocationMetrics.builder().register(registry);
    JvmMemoryMetrics.builder().register(registry);
    if (nativeMemoryTracking()) {
      JvmNativeMemoryMetrics.builder().register(registry);
    }
    JvmRuntimeInfoMetric.builder().register(registry);
    ProcessMetrics.builder().register(registry);
  }

  /**
   * Whether the JVM was started with native memory tracking ({@code summary} or {@code detail}).
   */
  private static boolean nativeMemoryTracking() {
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-XX:NativeMemoryTracking=") && !arg.endsWith("=off")) {
        return true;
      }
    }
    return false;
  }

  Service(ServeOptions serve, PollOptions poll) {
    registerJvmMetrics(registry);
    // registered before NATS is even tried, so /metrics tells "not connected" from the first moment
    self =
        new SelfMetrics(
            registry,
            Main.version(),
            this::connected,
            () -> {
              Transport t = transport;
              return t == null ? 0 : t.refusals();
            },
            () -> leader.getAsBoolean());
    FleetCollector fleetSeries = new FleetCollector(latest, hitRates, this::leading);
    registry.register(fleetSeries);
    history = new History(hitRates, HISTORY);
    Map<String, HttpHandler> pages =
        Map.of(
            "/", new StaticFiles(),
            "/api/v1/",
                new FleetApi(
                    latest,
                    history,
                    workerKv,
                    this::connected,
                    poll.interval(),
                    poll.staleness,
                    () -> !started ? "starting" : leading() ? "active" : "standby",
                    this::eventPublishers));
    try {
      web = new WebServer(serve.host, serve.port, registry, this::notReady, pages, serve.web());
      // one rendering per poll; a stalled poll loop still gets fresh self metrics after 2 polls
      web.renderOncePer(latest, fleetSeries, poll.interval().multipliedBy(2), self::rendered);
    } catch (BindException e) {
      throw new UserError(
          "cannot listen on "
              + serve.host
              + ":"
              + serve.port
              + ": "
              + e.getMessage()
              + " (is another instance running? choose another with --port)");
    } catch (IOException e) {
      throw new UserError(
          "cannot listen on " + serve.host + ":" + serve.port + ": " + e.getMessage());
    }
  }

  /** Starts polling and listening over {@code transport}, leading always. */
  void start(Transport transport, PollOptions poll) {
    start(transport, poll, () -> true, null);
  }

  /**
   * Starts polling and listening over {@code transport}.
   *
   * @param leader whether this instance leads now (publishes l2c, pushes, exports fleet series)
   * @param workers where workers register, or {@code null} without etcd
   */
  void start(
      Transport transport, PollOptions poll, BooleanSupplier leader, WorkerRegistry workers) {
    this.transport = transport;
    this.leader = leader;
    this.registrations = workers;
    this.started = true;
    Targets targets;
    if (poll.component != null && poll.endpoint != null) {
      targets = Targets.fixed(new Target(poll.namespace, poll.component, poll.endpoint));
    } else {
      targets =
          Targets.discovered(
              new Discovery(transport, poll.namespace, poll.timeout()),
              poll.component,
              poll.endpoint,
              DISCOVERY_REFRESH);
    }
    List<Consumer<FleetSnapshot>> all = new ArrayList<>();
    all.add(latest);
    all.add(new L2cPublisher(transport, leader));
    all.add(s -> hitRates.update(s, System.nanoTime()));
    all.add(history);
    all.add(workerKv);
    all.add(s -> web.published(s, poll.interval())); // last: the counters are updated by then
    Inbox inbox = new Inbox(poll.maxWorkers * 4);
    // the ZMQ event plane has no subject to subscribe to: only discovery names its publishers
    ZmqIntake zmq =
        workers == null ? null : new ZmqIntake(poll.namespace, inbox, hitRates, self, self);
    if (zmq != null) {
      parts.add(zmq);
      zmqIntake = zmq;
    }
    PollLoop loop =
        new PollLoop(
            transport,
            new Poller(transport, poll.timeout(), self),
            targets,
            new FleetState(poll.staleness, poll.maxWorkers, poll.pushExpiry()),
            poll.interval(),
            all,
            workers,
            self,
            inbox,
            new Target(
                poll.namespace,
                poll.component == null ? "" : poll.component,
                poll.endpoint == null ? "" : poll.endpoint),
            zmq);
    parts.add(targets);
    parts.add(loop);
    PushIntake pushed = new PushIntake(transport, poll.namespace, inbox, hitRates, self);
    self.eventsDroppedByTransport(poll.namespace, pushed::dropped);
    self.pushedMessages(() -> pushed.decoded() + (zmq == null ? 0 : zmq.decoded()));
    parts.add(pushed);
    loop.start();
    LOG.info(
        "aggregating "
            + (poll.component != null && poll.endpoint != null
                ? poll.namespace + "/" + poll.component + "/" + poll.endpoint
                : "every endpoint with load metrics in namespace " + poll.namespace)
            + ", polling every "
            + poll.pollInterval
            + " s");
  }

  /**
   * Discovery through the Kubernetes API, watching {@code namespaces} for workers of Dynamo
   * namespace {@code namespace}; stops with this service.
   */
  KubeRoster kubernetes(KubernetesClient client, String namespace, List<String> namespaces) {
    KubeRoster r = new KubeRoster(client, namespace, namespaces, self);
    self.kubernetesWatches(r.watches());
    parts.add(r);
    LOG.info(
        "discovering workers through the Kubernetes API at "
            + client.getConfiguration().getMasterUrl()
            + " in namespace"
            + (namespaces.size() > 1 ? "s " : " ")
            + String.join(", ", namespaces));
    return r;
  }

  /**
   * The replicas' election through the Lease {@code name} in {@code namespace}; started by the
   * caller.
   */
  KubeElection kubeElection(KubernetesClient client, String namespace, String name) {
    return new KubeElection(
        client,
        namespace,
        name,
        KubeElection.identity(),
        Duration.ofSeconds(15),
        Duration.ofSeconds(10),
        Duration.ofSeconds(2),
        self);
  }

  /** Also pushes to a Pushgateway while leading; call after {@link #start}. */
  void push(PushOptions push) {
    self.pushEnabled();
    parts.add(
        new Pusher(
            registry,
            push.url,
            push.job,
            push.instance(),
            push.interval(),
            push.keepOnExit,
            leader,
            self));
  }

  /**
   * With {@code --gpu}: reads every GPU through NVML every {@code interval} and exports it under
   * dcgm-exporter's names.
   *
   * @throws UserError naming the library and NVML's reason when NVML cannot be used
   */
  void gpu(GpuOptions gpu, Duration interval) {
    if (!gpu.enabled) {
      return;
    }
    Nvml nvml;
    try {
      nvml = Nvml.load(gpu.library);
    } catch (NvmlException e) {
      throw new UserError("--gpu: cannot use NVML from " + gpu.library + ": " + e.getMessage());
    }
    try {
      GpuMetrics metrics = GpuMetrics.start(nvml, interval);
      registry.register(metrics);
      parts.add(metrics);
    } catch (NvmlException e) {
      nvml.close();
      throw new UserError(
          "--gpu: NVML from " + gpu.library + " cannot list the GPUs: " + e.getMessage());
    }
  }

  /** Stops with this service (in reverse order of adding). */
  void own(AutoCloseable part) {
    parts.add(part);
  }

  private boolean leading() {
    return leader.getAsBoolean();
  }

  int port() {
    return web.port();
  }

  /** Why {@code /readyz} says no: NATS, the first poll, or discovery; {@code null} when ready. */
  String notReady() {
    if (!connected() || !latest.get().transportConnected()) {
      return "waiting for NATS and a completed poll";
    }
    WorkerRegistry r = registrations;
    return r == null ? null : r.problem();
  }

  private boolean connected() {
    Transport t = transport;
    return t != null && t.isConnected();
  }

  /** Stops in reverse order of start; the transport is closed by its owner. */
  @Override
  public void close() {
    for (int i = parts.size() - 1; i >= 0; i--) {
      try {
        parts.get(i).close();
      } catch (Exception e) {
        LOG.fine("stopping " + parts.get(i) + ": " + e);
      }
    }
    web.close();
  }
}
