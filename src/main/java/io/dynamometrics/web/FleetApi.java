package io.dynamometrics.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.dynamometrics.fleet.Aggregates;
import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.JsonWriter;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code GET /api/v1/fleet} (the current snapshot) and {@code GET /api/v1/history} (the ring
 * buffer), written by {@link JsonWriter}: a service that never loads Jackson's object mapper holds
 * several MiB less (docs/benchmarks.md, the footprint row).
 */
public final class FleetApi implements HttpHandler {
  private final Supplier<FleetSnapshot> fleet;
  private final History history;
  private final BooleanSupplier connected;
  private final Duration pollInterval;
  private final Supplier<String> mode;
  private final Supplier<java.util.Map<String, Integer>> eventPublishers;
  private final WorkerKvHistory workerKv;
  private final int stalenessPolls;

  /**
   * @param stalenessPolls polls a worker may miss before it leaves (--staleness), which the page
   *     names
   * @param mode what this instance is doing now: {@code starting}, {@code active} or {@code
   *     standby}
   * @param eventPublishers the ZMQ event publishers discovery advertises, by connection state
   *     ({@code connecting}, {@code connected}, {@code unreachable}); empty without a ZMQ intake
   */
  public FleetApi(
      Supplier<FleetSnapshot> fleet,
      History history,
      WorkerKvHistory workerKv,
      BooleanSupplier connected,
      Duration pollInterval,
      int stalenessPolls,
      Supplier<String> mode,
      Supplier<java.util.Map<String, Integer>> eventPublishers) {
    this.fleet = fleet;
    this.history = history;
    this.workerKv = workerKv;
    this.connected = connected;
    this.pollInterval = pollInterval;
    this.stalenessPolls = stalenessPolls;
    this.mode = mode;
    this.eventPublishers = eventPublishers;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
      error(ex, 405, "only GET is supported");
      return;
    }
    String path = ex.getRequestURI().getPath();
    try {
      switch (path) {
        case "/api/v1/fleet" ->
            json(ex, 200, fleetJson(includeWorkers(query(ex.getRequestURI().getRawQuery()))));
        case "/api/v1/history" ->
            json(ex, 200, historyJson(query(ex.getRequestURI().getRawQuery())));
        default ->
            error(ex, 404, "no such API: " + path + " (try /api/v1/fleet or /api/v1/history)");
      }
    } catch (BadRequest e) {
      error(ex, e.status, e.getMessage());
    }
  }

  /**
   * {@code workers=false} leaves the per-worker lists out (for large fleets and frequent polling).
   */
  private static boolean includeWorkers(Map<String, String> q) {
    for (String key : q.keySet()) {
      if (!key.equals("workers")) {
        throw new BadRequest(400, "unknown parameter '" + key + "' (expected workers=true|false)");
      }
    }
    String w = q.getOrDefault("workers", "true");
    if (!w.equals("true") && !w.equals("false")) {
      throw new BadRequest(400, "workers must be true or false, got '" + w + "'");
    }
    return w.equals("true");
  }

  private byte[] fleetJson(boolean withWorkers) {
    FleetSnapshot s = fleet.get();
    long now = System.currentTimeMillis();
    JsonWriter o = new JsonWriter(4096).startObject();
    o.startObject("status");
    boolean up = connected.getAsBoolean();
    double age = s.sequence() == 0 ? -1 : (now - s.takenAtMillis()) / 1000.0;
    String currentMode = mode.get();
    o.name("mode").value(currentMode);
    o.name("transportConnected").value(up);
    o.name("polls").value(s.sequence());
    o.name("lastPollAgeSeconds").value(age);
    o.name("pollIntervalSeconds").value(pollInterval.toMillis() / 1000.0);
    o.name("stalenessPolls").value(stalenessPolls);
    // Fresh: connected, and the last poll is recent; otherwise the page must not present numbers as
    // current.
    o.name("fresh")
        .value(
            up
                && s.transportConnected()
                && age >= 0
                && age <= stalenessPolls * pollInterval.toMillis() / 1000.0 + 1);
    o.name("serverTimeMillis").value(now);
    java.util.Map<String, Integer> publishers = eventPublishers.get();
    if (!publishers.isEmpty()) { // ZMQ publishers (Dynamo 1.3 on) by the state of the connection
      o.startObject("eventPublishers");
      for (String state : new java.util.TreeSet<>(publishers.keySet())) {
        o.name(state).value((long) publishers.get(state));
      }
      o.endObject();
    }
    o.endObject();
    o.startArray("endpoints");
    if (!currentMode.equals("active")) { // starting, or a standby: no fleet, as on /metrics
      return o.endArray().endObject().toByteArray();
    }
    for (EndpointFleet e : s.endpoints()) {
      o.startObject();
      target(o, e.target());
      o.startObject("poll");
      o.name("replies").value(e.poll().replies());
      o.name("durationSeconds").value(e.poll().durationSeconds());
      o.name("lingerSeconds").value(e.poll().lingerSeconds());
      o.name("completedAtMillis").value(e.poll().completedAtMillis());
      o.endObject();
      Aggregates a = e.aggregates();
      o.startObject("aggregates");
      o.name("workers").value(e.workers().size());
      if (e.registered() >= 0) {
        o.name("registered").value(e.registered());
      }
      if (a != null) {
        number(o, "loadAvg", a.loadAvg());
        number(o, "loadStd", a.loadStd());
        whole(o, "loadMin", a.loadMin());
        whole(o, "loadMax", a.loadMax());
        number(o, "imbalanceRatio", a.imbalanceRatio());
        number(o, "kvUsageRatio", a.kvUsageRatio());
        number(o, "slotsUsageRatio", a.slotsUsageRatio());
        whole(o, "requestsWaiting", a.requestsWaiting());
      }
      History.Point latest = history == null ? null : history.latest(e.target());
      number(o, "kvHitRatio", latest == null ? Double.NaN : latest.hitRatio());
      o.name("kvHitRatioWindowSeconds").value(History.HIT_WINDOW.toSeconds());
      o.endObject();
      if (withWorkers) {
        o.startArray("workers");
        for (Worker w : e.workers()) {
          ForwardPassMetrics m = w.metrics();
          o.startObject();
          o.name("workerId").value(Long.toString(w.key().workerId()));
          if (w.key().hasRank()) {
            o.name("dpRank").value(w.key().dpRank());
          } else {
            o.name("dpRank").nullValue();
          }
          // a field the worker's release does not send is null, never 0
          whole(o, "kvActiveBlocks", m.value(ForwardPassMetrics.KV_ACTIVE));
          whole(o, "kvTotalBlocks", m.value(ForwardPassMetrics.KV_TOTAL));
          whole(o, "requestActiveSlots", m.value(ForwardPassMetrics.ACTIVE_SLOTS));
          whole(o, "requestTotalSlots", m.value(ForwardPassMetrics.TOTAL_SLOTS));
          whole(o, "requestsWaiting", m.value(ForwardPassMetrics.WAITING));
          number(o, "gpuCacheUsage", m.value(ForwardPassMetrics.CACHE_USAGE));
          number(o, "prefixCacheHitRate", m.value(ForwardPassMetrics.HIT_RATE));
          whole(o, "decodeBlocksActive", m.value(ForwardPassMetrics.DECODE_BLOCKS));
          o.name("intake").value(w.intake());
          o.name("statsAgeSeconds").value(w.ageSeconds());
          o.endObject();
        }
        o.endArray();
      }
      o.endObject();
    }
    return o.endArray().endObject().toByteArray();
  }

  private byte[] historyJson(Map<String, String> q) {
    for (String key : q.keySet()) {
      if (!List.of("namespace", "component", "endpoint", "window").contains(key)) {
        throw new BadRequest(
            400,
            "unknown parameter '" + key + "' (expected namespace, component, endpoint, window)");
      }
    }
    Duration window = q.containsKey("window") ? parseWindow(q.get("window")) : history.retention();
    if (window.compareTo(history.retention()) > 0) {
      throw new BadRequest(
          400,
          "window '"
              + q.get("window")
              + "' is longer than the "
              + history.retention().toMinutes()
              + " minutes kept");
    }
    List<Target> known =
        fleet.get().endpoints().stream()
            .map(EndpointFleet::target)
            .filter(t -> !q.containsKey("namespace") || t.namespace().equals(q.get("namespace")))
            .filter(t -> !q.containsKey("component") || t.component().equals(q.get("component")))
            .filter(t -> !q.containsKey("endpoint") || t.endpoint().equals(q.get("endpoint")))
            .toList();
    if (known.isEmpty()) {
      throw new BadRequest(
          404,
          "no aggregated endpoint matches " + q + "; see /api/v1/fleet for what is aggregated");
    }
    if (known.size() > 1) {
      throw new BadRequest(
          400, "several endpoints match; give component and endpoint, one of " + known);
    }
    Target t = known.get(0);
    JsonWriter o = new JsonWriter(4096).startObject();
    target(o, t);
    o.name("windowSeconds").value(window.toSeconds());
    o.startArray("points");
    for (History.Point p : history.read(t, window, System.currentTimeMillis())) {
      o.startObject();
      o.name("t").value(p.timeMillis());
      o.name("workers").value(p.workers());
      number(o, "kvUsageRatio", p.kvUsage());
      number(o, "slotsUsageRatio", p.slotsUsage());
      whole(o, "requestsWaiting", p.waiting());
      number(o, "loadAvg", p.loadAvg());
      number(o, "loadStd", p.loadStd());
      number(o, "imbalanceRatio", p.imbalance());
      number(o, "kvHitRatio", p.hitRatio());
      o.endObject();
    }
    o.endArray();
    o.startObject("workerKv");
    o.name("bucketSeconds").value(WorkerKvHistory.BUCKET_MILLIS / 1000);
    o.startObject("workers");
    workerKv
        .read(t, System.currentTimeMillis())
        .forEach(
            (k, cells) -> {
              o.startArray(k.workerId() + "/" + (k.hasRank() ? Integer.toString(k.dpRank()) : ""));
              for (int c : cells) {
                if (c < 0) {
                  o.nullValue();
                } else {
                  o.value(c);
                }
              }
              o.endArray();
            });
    return o.endObject().endObject().endObject().toByteArray();
  }

  /** {@code 90}, {@code 90s}, {@code 5m}: at least one second. */
  static Duration parseWindow(String s) {
    try {
      Duration d;
      if (s.endsWith("m")) {
        d = Duration.ofSeconds(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 60));
      } else {
        d =
            Duration.ofSeconds(
                Math.round(
                    Double.parseDouble(s.endsWith("s") ? s.substring(0, s.length() - 1) : s)));
      }
      if (d.toSeconds() >= 1) {
        return d;
      }
    } catch (NumberFormatException | ArithmeticException ignored) {
      // reported below
    }
    throw new BadRequest(400, "window '" + s + "' is not a duration like 300, 90s or 15m");
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      if (out.put(k, v) != null) {
        throw new BadRequest(400, "parameter '" + k + "' given twice");
      }
    }
    return out;
  }

  private static void target(JsonWriter o, Target t) {
    o.name("namespace").value(t.namespace());
    o.name("component").value(t.component());
    o.name("endpoint").value(t.endpoint());
  }

  /** A whole number, or null for NaN (not sent by the release, no workers). */
  private static void whole(JsonWriter o, String field, double v) {
    if (Double.isFinite(v)) {
      o.name(field).value((long) v);
    } else {
      o.name(field).nullValue();
    }
  }

  /** {@code v}, or null where it is not a number (no workers, no events yet). */
  private static void number(JsonWriter o, String field, double v) {
    if (Double.isFinite(v)) {
      o.name(field).value(v);
    } else {
      o.name(field).nullValue();
    }
  }

  private static void json(HttpExchange ex, int status, byte[] body) throws IOException {
    WebServer.send(ex, status, "application/json", body);
  }

  private static void error(HttpExchange ex, int status, String message) throws IOException {
    json(
        ex,
        status,
        new JsonWriter(64 + message.length())
            .startObject()
            .name("error")
            .value(message)
            .endObject()
            .toByteArray());
  }

  private static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }
}
