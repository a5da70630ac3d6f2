package io.dynamometrics.export;

import io.dynamometrics.fleet.Aggregates;
import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.wire.ForwardPassMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The fleet series of metrics.md, built at each scrape from the latest snapshot: a worker that left
 * the snapshot has no series, by construction. Called by the registry on the scraping thread; it
 * only reads immutable data, so concurrent scrapes are safe and never wait for a poll.
 */
public final class FleetCollector implements MultiCollector {
  private final Supplier<FleetSnapshot> fleet;
  private final HitRates hitRates;
  private final BooleanSupplier leader;

  private volatile Rendered rendered;

  /**
   * @param leader whether to export at all: a standby shows no fleet series
   */
  public FleetCollector(Supplier<FleetSnapshot> fleet, HitRates hitRates, BooleanSupplier leader) {
    this.fleet = fleet;
    this.hitRates = hitRates;
    this.leader = leader;
  }

  /** The fleet families of one snapshot: built once, shared by every scrape until the next poll. */
  private record Rendered(FleetSnapshot source, List<MetricSnapshot> families) {}

  @Override
  @SuppressWarnings("ReferenceEquality") // the very snapshot object the families were built from
  public MetricSnapshots collect() {
    if (!leader.getAsBoolean()) {
      return MetricSnapshots.of();
    }
    FleetSnapshot snapshot = fleet.get();
    Rendered r = rendered;
    if (r == null || r.source() != snapshot) {
      r =
          new Rendered(
              snapshot,
              fleetFamilies(snapshot)); // a racing scrape may build it too; both are equal
      rendered = r;
    }
    List<MetricSnapshot> out = new ArrayList<>(r.families());
    hitRateFamilies(out);
    return new MetricSnapshots(out);
  }

  /** Everything that comes from the snapshot (immutable, so it is rendered once per poll). */
  private static List<MetricSnapshot> fleetFamilies(FleetSnapshot snapshot) {
    var kvActive =
        new Families.Gauge(
            "llm_kv_blocks_active", "KV-cache blocks in use on the worker (kv_active_blocks).");
    var kvTotal =
        new Families.Gauge(
            "llm_kv_blocks_total",
            "KV-cache capacity of the worker in blocks (kv_total_blocks). A gauge, despite the name, kept for Dynamo's dashboards.");
    var slotsActive =
        new Families.Gauge(
            "llm_requests_active_slots",
            "Requests the worker is serving now (request_active_slots).");
    var slotsTotal =
        new Families.Gauge(
            "llm_requests_total_slots", "Request capacity of the worker (request_total_slots).");
    var hitRate =
        new Families.Gauge(
            "llm_kv_hit_rate_percent",
            "Prefix-cache hit rate reported by the worker, a 0..1 fraction despite the name (gpu_prefix_cache_hit_rate).");
    var waiting =
        new Families.Gauge(
            "llm_requests_waiting", "Requests queued on the worker (num_requests_waiting).");
    var cacheUsage =
        new Families.Gauge(
            "llm_gpu_cache_usage_ratio",
            "GPU KV-cache usage of the worker, 0..1 (gpu_cache_usage_perc).");
    var age =
        new Families.Gauge(
            "llm_worker_stats_age_seconds", "Seconds since the worker's last good stats reply.");
    var workers = new Families.Gauge("llm_workers", "Live workers of the endpoint.");
    var loadAvg = new Families.Gauge("llm_load_avg", "Mean kv_active_blocks over live workers.");
    var loadStd =
        new Families.Gauge(
            "llm_load_std", "Population standard deviation of kv_active_blocks over live workers.");
    var loadMin = new Families.Gauge("llm_load_min", "Minimum kv_active_blocks over live workers.");
    var loadMax = new Families.Gauge("llm_load_max", "Maximum kv_active_blocks over live workers.");
    var imbalance =
        new Families.Gauge(
            "llm_load_imbalance_ratio",
            "Max over mean kv_active_blocks; 1 is perfectly even. Absent when the mean is 0.");
    var kvUsage =
        new Families.Gauge(
            "llm_kv_usage_ratio", "Sum of active over sum of total KV blocks of live workers.");
    var slotsUsage =
        new Families.Gauge(
            "llm_request_slots_usage_ratio",
            "Sum of active over sum of total request slots of live workers.");
    var fleetWaiting =
        new Families.Gauge("llm_fleet_requests_waiting", "Requests queued over all live workers.");
    var registered =
        new Families.Gauge(
            "llm_workers_registered",
            "Workers registered in etcd for the endpoint (with etcd discovery).");
    var replies =
        new Families.Gauge(
            "dynamo_metrics_poll_replies", "Stats replies in the last poll of the endpoint.");

    for (EndpointFleet e : snapshot.endpoints()) {
      Target t = e.target();
      Labels endpointLabels =
          Labels.of(
              "namespace", t.namespace(), "component", t.component(), "endpoint", t.endpoint());
      for (Worker w : e.workers()) {
        Labels labels =
            w.key().hasRank()
                ? endpointLabels
                    .add("worker_id", Long.toString(w.key().workerId()))
                    .add("dp_rank", Integer.toString(w.key().dpRank()))
                : endpointLabels.add("worker_id", Long.toString(w.key().workerId()));
        ForwardPassMetrics m = w.metrics();
        kvActive.add(labels, m.kvActiveBlocks());
        kvTotal.add(labels, m.kvTotalBlocks());
        slotsActive.add(labels, m.requestActiveSlots());
        slotsTotal.add(labels, m.requestTotalSlots());
        hitRate.add(labels, m.gpuPrefixCacheHitRate());
        waiting.add(labels, m.numRequestsWaiting());
        cacheUsage.add(labels, m.gpuCacheUsagePerc());
        age.add(labels, w.ageSeconds());
      }
      workers.add(endpointLabels, e.workers().size());
      replies.add(endpointLabels, e.poll().replies());
      if (e.registered() >= 0) {
        registered.add(endpointLabels, e.registered());
      }
      Aggregates a = e.aggregates();
      if (a != null) {
        loadAvg.add(endpointLabels, a.loadAvg());
        loadStd.add(endpointLabels, a.loadStd());
        loadMin.add(endpointLabels, a.loadMin());
        loadMax.add(endpointLabels, a.loadMax());
        imbalance.add(endpointLabels, a.imbalanceRatio());
        kvUsage.add(endpointLabels, a.kvUsageRatio());
        slotsUsage.add(endpointLabels, a.slotsUsageRatio());
        fleetWaiting.add(endpointLabels, a.requestsWaiting());
      }
    }

    List<MetricSnapshot> out = new ArrayList<>(20);
    for (var g :
        List.of(
            kvActive,
            kvTotal,
            slotsActive,
            slotsTotal,
            hitRate,
            waiting,
            cacheUsage,
            age,
            workers,
            loadAvg,
            loadStd,
            loadMin,
            loadMax,
            imbalance,
            kvUsage,
            slotsUsage,
            fleetWaiting,
            registered,
            replies)) {
      g.addTo(out);
    }
    return List.copyOf(out);
  }

  /** The hit-rate counters, which move between polls, read at each scrape. */
  private void hitRateFamilies(List<MetricSnapshot> out) {
    var isl =
        new Families.Counter(
            "llm_kv_hit_rate_isl_blocks",
            "Input-sequence blocks routed to the worker, from KV hit-rate events.");
    var overlap =
        new Families.Counter(
            "llm_kv_hit_rate_overlap_blocks",
            "Routed input blocks already cached on the worker, from KV hit-rate events.");
    for (HitRates.Counter c : hitRates.read()) {
      Target t = c.target();
      Labels labels =
          Labels.of(
              "namespace",
              t.namespace(),
              "component",
              t.component(),
              "endpoint",
              t.endpoint(),
              "worker_id",
              Long.toString(c.workerId()));
      isl.add(labels, c.islBlocks());
      overlap.add(labels, c.overlapBlocks());
    }

    isl.addTo(out);
    overlap.addTo(out);
  }
}
