package io.dynamometrics.sim;

import io.dynamometrics.transport.Transport;
import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.HitRateEvent;
import io.dynamometrics.wire.JsonWriter;
import io.dynamometrics.wire.JsonWriter.Name;
import io.dynamometrics.wire.PushDecoder;
import io.dynamometrics.wire.PushEncoder;
import io.dynamometrics.wire.Subjects;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.LongAdder;

/**
 * One simulated Dynamo worker with a {@link LoadModel} behind it. Of a generation that answers
 * stats, a NATS "micro" service instance that answers {@code $SRV.PING}, {@code $SRV.INFO} and
 * {@code $SRV.STATS} (to all, by name, and by name and id) in the JSON of its wire generation, as
 * async-nats writes it; of a later one, a worker that pushes its load once a second, in its
 * generation's encoding and on its subject.
 */
public final class MockWorker implements AutoCloseable {
  private static final String VERSION = "0.0.1";
  private static final Name TYPE = Name.of("type");
  private static final Name NAME = Name.of("name");
  private static final Name ID = Name.of("id");
  private static final Name VERSION_NAME = Name.of("version");
  private static final Name DESCRIPTION = Name.of("description");
  private static final Name ENDPOINTS = Name.of("endpoints");
  private static final Name SUBJECT = Name.of("subject");
  private static final Name QUEUE_GROUP = Name.of("queue_group");
  private static final Name STARTED = Name.of("started");

  private final Transport transport;
  private final String namespace;
  private final String component;
  private final String endpoint;
  private final WireGeneration wire;
  private final String service;
  private final String id;
  private final long lease;
  private final String started = Instant.now().toString();
  private final LoadModel model;
  private final List<Transport.Subscription> subscriptions = new ArrayList<>();
  private final String statsPrefix;
  private volatile ForwardPassMetrics current;
  private long ticks;
  private long sequence;
  private final LongAdder requests =
      new LongAdder(); // bumped on NATS dispatcher threads, read by STATS replies

  public MockWorker(
      Transport transport,
      String namespace,
      String component,
      String endpoint,
      WireGeneration wire,
      long lease,
      long seed) {
    this.transport = transport;
    this.namespace = namespace;
    this.component = component;
    this.endpoint = endpoint;
    this.wire = wire;
    this.service = wire.serviceName(namespace, component);
    this.lease = lease;
    this.id = randomId(new Random(seed ^ lease));
    this.model = new LoadModel(lease, seed, 32, 4096);
    this.current = model.metrics(ForwardPassMetrics.NO_RANK);
    // the reply's object left open: the endpoints follow
    this.statsPrefix = header("stats_response").field(STARTED, started) + ",\"endpoints\":[";
  }

  /** Starts answering. */
  public MockWorker start() {
    for (String verb :
        wire.answersStats() ? new String[] {"PING", "INFO", "STATS"} : new String[0]) {
      for (String subject :
          new String[] {
            "$SRV." + verb,
            "$SRV." + verb + "." + service,
            "$SRV." + verb + "." + service + "." + id
          }) {
        subscriptions.add(transport.subscribe(subject, null, m -> reply(m.replyTo(), verb)));
      }
    }
    for (String ep : new String[] {endpoint, "generate"}) {
      subscriptions.add(
          transport.subscribe(
              subject(ep),
              "q",
              m -> {
                requests.increment();
                reply(m.replyTo(), "{}".getBytes(StandardCharsets.UTF_8));
              }));
    }
    return this;
  }

  /** Advances the load by {@code dt} seconds; publishes one hit-rate event per arriving request. */
  public void tick(double dt, double ratePerSecond) {
    String events = Subjects.hitRate(namespace);
    model.step(dt, ratePerSecond, e -> hitRate(events, e));
    current = model.metrics(ForwardPassMetrics.NO_RANK);
    // a pushing worker publishes about once a second, workers spread over the second
    if (wire.pushes() && ++ticks % Math.max(1, Math.round(1 / dt)) == Math.floorMod(lease, 10)) {
      transport.publish(
          wire.pushSubject(namespace, component, endpoint, PushDecoder.KV_METRICS),
          wire.loadMessage(lease, current, sequence++));
    }
  }

  /** One routed request's hit-rate event, as the routers of this generation publish it. */
  private void hitRate(String subject, HitRateEvent e) {
    switch (wire) {
      case ENVELOPE ->
          transport.publish(
              subject,
              PushEncoder.envelope(
                  lease,
                  sequence++,
                  System.currentTimeMillis(),
                  PushDecoder.HIT_RATE,
                  PushEncoder.hitRate(e.workerId(), 0, e.islBlocks(), e.overlapBlocks())));
      case ENVELOPE_ENDPOINT -> {
        // no 1.x release publishes hit-rate events
      }
      default -> transport.publish(subject, encode(e));
    }
  }

  public long lease() {
    return lease;
  }

  public ForwardPassMetrics metrics() {
    return current;
  }

  private String subject(String ep) {
    return Subjects.endpoint(service, ep, lease);
  }

  private void reply(String replyTo, String verb) {
    reply(
        replyTo,
        switch (verb) {
          case "PING" -> ping();
          case "INFO" -> info();
          default -> stats();
        });
  }

  private void reply(String replyTo, byte[] body) {
    if (replyTo != null) {
      transport.publish(replyTo, body);
    }
  }

  /** The members every micro reply starts with. */
  private JsonWriter header(String type) {
    return new JsonWriter(512)
        .startObject()
        .field(TYPE, "io.nats.micro.v1." + type)
        .field(NAME, service)
        .field(ID, id)
        .field(VERSION_NAME, VERSION);
  }

  private byte[] ping() {
    return header("ping_response").endObject().toByteArray();
  }

  private byte[] info() {
    JsonWriter w = header("info_response");
    w.field(DESCRIPTION, "Dynamo component " + component + " in namespace " + namespace);
    w.name(ENDPOINTS).startArray();
    for (String ep : new String[] {endpoint, "generate"}) {
      w.startObject()
          .field(NAME, subject(ep).replace('.', '-'))
          .field(SUBJECT, subject(ep))
          .field(QUEUE_GROUP, "q")
          .endObject();
    }
    return w.endArray().endObject().toByteArray();
  }

  /**
   * The stats reply, as async-nats writes it. Built with a string builder rather than a JSON tree:
   * a mock process answers for thousands of workers, and its speed must not be what a benchmark of
   * the aggregator measures.
   */
  private byte[] stats() {
    StringBuilder sb = new StringBuilder(900);
    sb.append(statsPrefix);
    endpoint(sb, endpoint, requests.sum());
    sb.append(",\"data\":");
    sb.append(wire.metricsJson(current));
    sb.append(",\"queue_group\":\"q\"},");
    endpoint(sb, "generate", 0);
    sb.append(",\"data\":null,\"queue_group\":\"q\"}]}");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private void endpoint(StringBuilder sb, String ep, long numRequests) {
    String subject = subject(ep);
    sb.append("{\"name\":\"")
        .append(subject.replace('.', '-'))
        .append("\",\"subject\":\"")
        .append(subject)
        .append("\",\"num_requests\":")
        .append(numRequests)
        .append(
            ",\"num_errors\":0,\"processing_time\":0,\"average_processing_time\":0,\"last_error\":\"\"");
  }

  private static byte[] encode(HitRateEvent e) {
    return ("{\"worker_id\":"
            + e.workerId()
            + ",\"isl_blocks\":"
            + e.islBlocks()
            + ",\"overlap_blocks\":"
            + e.overlapBlocks()
            + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static String randomId(Random r) {
    String alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    StringBuilder sb = new StringBuilder(22);
    for (int i = 0; i < 22; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  @Override
  public void close() {
    subscriptions.forEach(Transport.Subscription::close);
    subscriptions.clear();
  }
}
