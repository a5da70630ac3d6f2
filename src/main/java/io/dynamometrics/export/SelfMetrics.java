package io.dynamometrics.export;

import io.dynamometrics.fleet.Target;
import io.dynamometrics.intake.ZmqIntake;
import io.dynamometrics.k8s.KubeRoster;
import io.dynamometrics.log.Field;
import io.dynamometrics.poll.PollObserver;
import io.dynamometrics.wire.DecodeError;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The service's report on itself: the {@code dynamo_metrics_*} families of metrics.md. */
public final class SelfMetrics implements PollObserver, ZmqIntake.Observer, KubeRoster.Observer {
  private static final Logger LOG = Logger.getLogger(SelfMetrics.class.getName());

  private final Histogram pollDuration;
  private final Counter decodeErrors;
  private final Counter events;
  private final Counter eventsDropped;
  private final Counter pushes;
  private final Counter renders;
  private final Counter overLimit;
  private final Counter loadMessages;
  private final Counter zmqLost;
  private final Counter zmqRestarts;
  private final Counter zmqDisconnects;
  private final Counter kubeFailures;
  private volatile java.util.List<KubeRoster.Watch> kubeWatches = java.util.List.of();
  private volatile java.util.Map<ZmqIntake.State, Integer> zmqPublishers = java.util.Map.of();
  private volatile LongSupplier transportDrops = () -> 0;
  private volatile String transportDropsNamespace = "";
  private final LogLimiter limiter = new LogLimiter(LOG, Duration.ofMinutes(1));

  private volatile NamespaceCounter lastEvents;

  /**
   * @param connected whether the transport is connected now
   * @param refusals connection attempts the transport's server refused so far (credentials, TLS)
   * @param leader whether this instance leads (always, without an election)
   */
  public SelfMetrics(
      PrometheusRegistry registry,
      String version,
      BooleanSupplier connected,
      LongSupplier refusals,
      BooleanSupplier leader) {
    pollDuration =
        Histogram.builder()
            .name("dynamo_metrics_poll_duration_seconds")
            .help("Time from sending a stats request to finishing the gather.")
            .labelNames("namespace", "component", "endpoint")
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
            .classicOnly()
            .register(registry);
    decodeErrors =
        Counter.builder()
            .name("dynamo_metrics_decode_errors")
            .help("Payloads (or endpoints of a reply) that could not be used.")
            .labelNames("source", "reason")
            .register(registry);
    events =
        Counter.builder()
            .name("dynamo_metrics_events")
            .help("KV hit-rate events accepted.")
            .labelNames("namespace")
            .register(registry);
    eventsDropped =
        Counter.builder()
            .name("dynamo_metrics_events_dropped")
            .help("Valid KV hit-rate events dropped because the per-worker counter table is full.")
            .labelNames("namespace")
            .register(registry);
    CounterWithCallback.builder()
        .name("dynamo_metrics_events_slow_consumer_dropped")
        .help(
            "Pushed messages (load, forward-pass metrics, KV hit-rate events) NATS delivery dropped"
                + " because the subscriber's bounded queue was full.")
        .labelNames("namespace")
        .callback(cb -> cb.call(transportDrops.getAsLong(), transportDropsNamespace))
        .register(registry);
    overLimit =
        Counter.builder()
            .name("dynamo_metrics_workers_over_limit")
            .help(
                "Worker replies not exported because the endpoint already has --max-workers workers.")
            .labelNames("namespace", "component", "endpoint")
            .register(registry);
    loadMessages =
        Counter.builder()
            .name("dynamo_metrics_load_messages")
            .help(
                "Pushed load and forward-pass messages by what became of them: accepted,"
                    + " router_estimate (a KV router's estimate, never a worker's value),"
                    + " unknown_worker (no instance key in etcd: gone or never registered),"
                    + " unknown_publisher, forward_pass_without_etcd, inbox_full.")
            .labelNames("result")
            .register(registry);
    for (String r :
        new String[] {
          "accepted",
          "router_estimate",
          "unknown_worker",
          "unknown_publisher",
          "forward_pass_without_etcd",
          "inbox_full"
        }) {
      loadMessages.labelValues(r);
    }
    CounterWithCallback.builder()
        .name("dynamo_metrics_pushed_messages")
        .help(
            "Messages decoded from Dynamo's event plane (load, forward-pass metrics, hit-rate"
                + " events), before each worker's latest is kept for the next poll.")
        .callback(cb -> cb.call(pushedDecoded.getAsLong()))
        .register(registry);
    zmqLost =
        Counter.builder()
            .name("dynamo_metrics_zmq_lost_messages")
            .help(
                "Messages the ZMQ event plane lost: the gaps in each publisher's sequence (a"
                    + " subscriber's first message from a publisher is no gap).")
            .register(registry);
    zmqRestarts =
        Counter.builder()
            .name("dynamo_metrics_zmq_publisher_restarts")
            .help(
                "ZMQ event publishers that started again: a new publisher id on a worker's"
                    + " channel, or a sequence that began again.")
            .register(registry);
    zmqDisconnects =
        Counter.builder()
            .name("dynamo_metrics_zmq_disconnects")
            .help(
                "Connections to ZMQ event publishers that closed: a worker that stopped or was"
                    + " killed, or a peer that broke the protocol (a frame over 1 MiB).")
            .register(registry);
    GaugeWithCallback.builder()
        .name("dynamo_metrics_zmq_publishers")
        .help(
            "ZMQ event publishers discovery advertises, by the state of the service's connection:"
                + " connecting, connected, unreachable (see the log for the address and the fix).")
        .labelNames("state")
        .callback(
            cb -> {
              for (ZmqIntake.State s : ZmqIntake.State.values()) {
                cb.call(zmqPublishers.getOrDefault(s, 0), s.label);
              }
            })
        .register(registry);
    pushes =
        Counter.builder()
            .name("dynamo_metrics_push")
            .help("Pushgateway pushes by result.")
            .labelNames("result")
            .register(registry);
    renders =
        Counter.builder()
            .name("dynamo_metrics_scrape_renders")
            .help(
                "Renderings of /metrics (one per poll and format at most): ahead of a scrape"
                    + " expected before the next poll, or on the scrape that asked first.")
            .labelNames("when")
            .register(registry);
    renders.labelValues("ahead");
    renders.labelValues("on_scrape");
    // Known label values start at 0, so rate() works from the first scrape and dashboards show 0,
    // not "no data".
    for (String reason :
        new String[] {
          DecodeError.INVALID_JSON,
          DecodeError.NOT_STATS_REPLY,
          DecodeError.NOT_METRICS,
          DecodeError.NO_WORKER_ID
        }) {
      decodeErrors.labelValues("stats", reason);
    }
    decodeErrors.labelValues("event", DecodeError.INVALID_EVENT);
    for (String reason :
        new String[] {
          DecodeError.INVALID_JSON,
          DecodeError.INVALID_MSGPACK,
          DecodeError.INVALID_ENVELOPE,
          DecodeError.INVALID_LOAD,
          DecodeError.NOT_METRICS,
          DecodeError.INVALID_FORWARD_PASS
        }) {
      decodeErrors.labelValues("push", reason);
    }
    decodeErrors.labelValues("zmq", DecodeError.INVALID_FRAME);
    GaugeWithCallback.builder()
        .name("dynamo_metrics_nats_connected")
        .help("1 while connected to NATS.")
        .callback(cb -> cb.call(connected.getAsBoolean() ? 1 : 0))
        .register(registry);
    CounterWithCallback.builder()
        .name("dynamo_metrics_nats_refused")
        .help(
            "Connection attempts NATS refused (wrong or revoked credentials, TLS); the service keeps retrying.")
        .callback(cb -> cb.call(refusals.getAsLong()))
        .register(registry);
    kubeFailures =
        Counter.builder()
            .name("dynamo_metrics_kubernetes_watch_failures")
            .help(
                "Failed lists and lost watches of the Kubernetes API by resource and reason:"
                    + " forbidden, not_found, unauthorized, unreachable, disconnected (a watch that broke),"
                    + " error (see the log for the"
                    + " fix); each is retried.")
            .labelNames("resource", "reason")
            .register(registry);
    GaugeWithCallback.builder()
        .name("dynamo_metrics_kubernetes_watch_up")
        .help(
            "With --discovery kubernetes: 1 while the resource is listed and watched in the"
                + " namespace, 0 while a list or watch fails.")
        .labelNames("resource", "namespace")
        .callback(
            cb -> {
              for (KubeRoster.Watch w : kubeWatches) {
                cb.call(w.up() ? 1 : 0, w.resource(), w.namespace());
              }
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("dynamo_metrics_leader")
        .help("1 while this instance leads and publishes (always 1 without an etcd election).")
        .callback(cb -> cb.call(leader.getAsBoolean() ? 1 : 0))
        .register(registry);
    Info build =
        Info.builder()
            .name("dynamo_metrics_build_info")
            .help("Build of this service; always 1.")
            .labelNames("version")
            .register(registry);
    build.setLabelValues(version);
  }

  @Override
  public void gathered(Target target, int replies, double seconds) {
    pollDuration
        .labelValues(target.namespace(), target.component(), target.endpoint())
        .observe(seconds);
  }

  /** Messages the event intake decoded, read at each scrape. */
  public void pushedMessages(LongSupplier decoded) {
    pushedDecoded = decoded;
  }

  private volatile LongSupplier pushedDecoded = () -> 0;

  @Override
  public void loadMessage(String result) {
    loadMessages.labelValues(result).inc();
  }

  @Override
  public void decodeError(String source, String reason, String detail) {
    decodeErrors.labelValues(source, reason).inc();
    limiter.log(
        Level.WARNING,
        source + "/" + reason,
        "unusable " + source + " payload (" + reason + "): " + detail,
        Field.of("source", source),
        Field.of("reason", reason),
        Field.of("detail", detail));
  }

  private record NamespaceCounter(String namespace, CounterDataPoint counter) {}

  @Override
  public void eventAccepted(String namespace) {
    // One namespace in practice: keep its data point instead of a label lookup per event.
    NamespaceCounter c = lastEvents;
    if (c == null || !c.namespace().equals(namespace)) {
      c = new NamespaceCounter(namespace, events.labelValues(namespace));
      lastEvents = c;
    }
    c.counter().inc();
  }

  @Override
  public void eventDropped(String namespace) {
    eventsDropped.labelValues(namespace).inc();
    limiter.log(
        Level.WARNING,
        "event-table-full",
        "hit-rate counter table full; dropping events of new workers",
        Field.of("namespace", namespace));
  }

  /**
   * Exports events the transport dropped because the subscriber fell behind (its pending queue is
   * bounded), as {@code dynamo_metrics_events_slow_consumer_dropped_total{namespace}}.
   */
  public void eventsDroppedByTransport(String namespace, LongSupplier dropped) {
    this.transportDrops = dropped;
    this.transportDropsNamespace = namespace;
  }

  @Override
  public void workersOverLimit(Target target, int refused) {
    overLimit.labelValues(target.namespace(), target.component(), target.endpoint()).inc(refused);
    limiter.log(
        Level.WARNING,
        "over-limit/" + target,
        refused
            + " workers of "
            + target
            + " not exported: the endpoint already has --max-workers workers",
        Field.of("endpoint", target.toString()),
        Field.of("refused", refused));
  }

  /** Exports the state of each Kubernetes watch. */
  public void kubernetesWatches(java.util.List<KubeRoster.Watch> watches) {
    this.kubeWatches = java.util.List.copyOf(watches);
  }

  @Override
  public void watchFailed(String resource, String reason) {
    kubeFailures.labelValues(resource, reason).inc();
  }

  @Override
  public void lost(long messages) {
    zmqLost.inc(messages);
  }

  @Override
  public void disconnected() {
    zmqDisconnects.inc();
  }

  @Override
  public void restarted() {
    zmqRestarts.inc();
  }

  @Override
  public void publishers(java.util.Map<ZmqIntake.State, Integer> byState) {
    zmqPublishers = byState;
  }

  /** A rendering of /metrics was made, {@code ahead} of an expected scrape or {@code on_scrape}. */
  public void rendered(String when) {
    renders.labelValues(when).inc();
  }

  /** Starts both push results at 0 (push mode is on). */
  public void pushEnabled() {
    pushes.labelValues("success");
    pushes.labelValues("failure");
  }

  public void pushed(boolean success) {
    pushes.labelValues(success ? "success" : "failure").inc();
  }
}
