package io.dynamometrics.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.dynamometrics.fleet.Aggregates;
import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.wire.ForwardPassMetrics;
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
 * buffer).
 */
public final class FleetApi implements HttpHandler {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Supplier<FleetSnapshot> fleet;
  private final History history;
  private final BooleanSupplier connected;
  private final Duration pollInterval;
  private final Supplier<String> mode;
  private final WorkerKvHistory workerKv;
  private final int stalenessPolls;

  /**
   * @param stalenessPolls polls a worker may miss before it leaves (--staleness), which the page
   *     names
   * @param mode what this instance is doing now: {@code starting}, {@code active} or {@code
   *     standby}
   */
  public FleetApi(
      Supplier<FleetSnapshot> fleet,
      History history,
      WorkerKvHistory workerKv,
      BooleanSupplier connected,
      Duration pollInterval,
      int stalenessPolls,
      Supplier<String> mode) {
    this.fleet = fleet;
    this.history = history;
    this.workerKv = workerKv;
    this.connected = connected;
    this.pollInterval = pollInterval;
    this.stalenessPolls = stalenessPolls;
    this.mode = mode;
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

  private ObjectNode fleetJson(boolean withWorkers) {
    FleetSnapshot s = fleet.get();
    long now = System.currentTimeMillis();
    ObjectNode root = JSON.createObjectNode();
    ObjectNode status = root.putObject("status");
    boolean up = connected.getAsBoolean();
    double age = s.sequence() == 0 ? -1 : (now - s.takenAtMillis()) / 1000.0;
    String currentMode = mode.get();
    status.put("mode", currentMode);
    status.put("transportConnected", up);
    status.put("polls", s.sequence());
    status.put("lastPollAgeSeconds", age);
    status.put("pollIntervalSeconds", pollInterval.toMillis() / 1000.0);
    status.put("stalenessPolls", stalenessPolls);
    // Fresh: connected, and the last poll is recent; otherwise the page must not present numbers as
    // current.
    status.put(
        "fresh",
        up
            && s.transportConnected()
            && age >= 0
            && age <= stalenessPolls * pollInterval.toMillis() / 1000.0 + 1);
    status.put("serverTimeMillis", now);
    ArrayNode eps = root.putArray("endpoints");
    if (!currentMode.equals("active")) {
      return root; // starting, or a standby: no fleet, as on /metrics
    }
    for (EndpointFleet e : s.endpoints()) {
      ObjectNode ep = eps.addObject();
      target(ep, e.target());
      ObjectNode poll = ep.putObject("poll");
      poll.put("replies", e.poll().replies());
      poll.put("durationSeconds", e.poll().durationSeconds());
      poll.put("lingerSeconds", e.poll().lingerSeconds());
      poll.put("completedAtMillis", e.poll().completedAtMillis());
      Aggregates a = e.aggregates();
      ObjectNode agg = ep.putObject("aggregates");
      agg.put("workers", e.workers().size());
      if (e.registered() >= 0) {
        agg.put("registered", e.registered());
      }
      if (a != null) {
        number(agg, "loadAvg", a.loadAvg());
        number(agg, "loadStd", a.loadStd());
        agg.put("loadMin", a.loadMin());
        agg.put("loadMax", a.loadMax());
        number(agg, "imbalanceRatio", a.imbalanceRatio());
        number(agg, "kvUsageRatio", a.kvUsageRatio());
        number(agg, "slotsUsageRatio", a.slotsUsageRatio());
        agg.put("requestsWaiting", a.requestsWaiting());
      }
      History.Point latest = history == null ? null : history.latest(e.target());
      number(agg, "kvHitRatio", latest == null ? Double.NaN : latest.hitRatio());
      agg.put("kvHitRatioWindowSeconds", History.HIT_WINDOW.toSeconds());
      if (!withWorkers) {
        continue;
      }
      ArrayNode workers = ep.putArray("workers");
      for (Worker w : e.workers()) {
        ForwardPassMetrics m = w.metrics();
        ObjectNode o = workers.addObject();
        o.put("workerId", Long.toString(w.key().workerId()));
        if (w.key().hasRank()) {
          o.put("dpRank", w.key().dpRank());
        } else {
          o.putNull("dpRank");
        }
        o.put("kvActiveBlocks", m.kvActiveBlocks());
        o.put("kvTotalBlocks", m.kvTotalBlocks());
        o.put("requestActiveSlots", m.requestActiveSlots());
        o.put("requestTotalSlots", m.requestTotalSlots());
        o.put("requestsWaiting", m.numRequestsWaiting());
        o.put("gpuCacheUsage", m.gpuCacheUsagePerc());
        o.put("prefixCacheHitRate", m.gpuPrefixCacheHitRate());
        o.put("statsAgeSeconds", w.ageSeconds());
      }
    }
    return root;
  }

  private ObjectNode historyJson(Map<String, String> q) {
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
    ObjectNode root = JSON.createObjectNode();
    target(root, t);
    root.put("windowSeconds", window.toSeconds());
    ArrayNode pts = root.putArray("points");
    for (History.Point p : history.read(t, window, System.currentTimeMillis())) {
      ObjectNode o = pts.addObject();
      o.put("t", p.timeMillis());
      o.put("workers", p.workers());
      number(o, "kvUsageRatio", p.kvUsage());
      number(o, "slotsUsageRatio", p.slotsUsage());
      o.put("requestsWaiting", p.waiting());
      number(o, "loadAvg", p.loadAvg());
      number(o, "loadStd", p.loadStd());
      number(o, "imbalanceRatio", p.imbalance());
      number(o, "kvHitRatio", p.hitRatio());
    }
    ObjectNode kv = root.putObject("workerKv");
    kv.put("bucketSeconds", WorkerKvHistory.BUCKET_MILLIS / 1000);
    ObjectNode byWorker = kv.putObject("workers");
    workerKv
        .read(t, System.currentTimeMillis())
        .forEach(
            (k, cells) -> {
              ArrayNode a =
                  byWorker.putArray(
                      k.workerId() + "/" + (k.hasRank() ? Integer.toString(k.dpRank()) : ""));
              for (int c : cells) {
                if (c < 0) {
                  a.addNull();
                } else {
                  a.add(c);
                }
              }
            });
    return root;
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

  private static void target(ObjectNode o, Target t) {
    o.put("namespace", t.namespace());
    o.put("component", t.component());
    o.put("endpoint", t.endpoint());
  }

  private static void number(ObjectNode o, String field, double v) {
    if (Double.isFinite(v)) {
      o.put(field, v);
    } else {
      o.putNull(field);
    }
  }

  private static void json(HttpExchange ex, int status, ObjectNode body) throws IOException {
    WebServer.send(ex, status, "application/json", JSON.writeValueAsBytes(body));
  }

  private static void error(HttpExchange ex, int status, String message) throws IOException {
    ObjectNode o = JSON.createObjectNode();
    o.put("error", message);
    json(ex, status, o);
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
