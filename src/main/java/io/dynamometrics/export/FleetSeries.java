package io.dynamometrics.export;

import io.dynamometrics.fleet.Aggregates;
import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.wire.ForwardPassMetrics;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The fleet series of metrics.md, defined once for both ways they are written: the client library's
 * snapshots (protobuf, push, filtered scrapes) and {@link FleetText}. The gauges come from a fleet
 * snapshot, the counters from the hit-rate events. A value of {@code NaN} means "none" and writes
 * no sample.
 */
final class FleetSeries {
  private FleetSeries() {}

  /** A gauge with one sample per worker. */
  record WorkerGauge(String name, String help, ToDoubleFunction<Worker> value) {}

  /** A gauge with one sample per endpoint. */
  record EndpointGauge(String name, String help, ToDoubleFunction<EndpointFleet> value) {}

  /**
   * A counter with one sample per worker that routed events named, from {@link HitRates}.
   *
   * @param name without the {@code _total} suffix, which the exposition adds
   */
  record WorkerCounter(String name, String help, ToDoubleFunction<HitRates.Counter> value) {}

  static final List<WorkerCounter> HIT_RATES =
      List.of(
          new WorkerCounter(
              "llm_kv_hit_rate_isl_blocks",
              "Input-sequence blocks routed to the worker, from KV hit-rate events.",
              HitRates.Counter::islBlocks),
          new WorkerCounter(
              "llm_kv_hit_rate_overlap_blocks",
              "Routed input blocks already cached on the worker, from KV hit-rate events.",
              HitRates.Counter::overlapBlocks));

  static final List<WorkerGauge> WORKER =
      List.of(
          new WorkerGauge(
              "llm_kv_blocks_active",
              "KV-cache blocks in use on the worker (kv_active_blocks).",
              w -> w.metrics().value(ForwardPassMetrics.KV_ACTIVE)),
          new WorkerGauge(
              "llm_kv_blocks_total",
              "KV-cache capacity of the worker in blocks (kv_total_blocks). A gauge, despite the name, kept for Dynamo's dashboards.",
              w -> w.metrics().value(ForwardPassMetrics.KV_TOTAL)),
          new WorkerGauge(
              "llm_requests_active_slots",
              "Requests the worker is serving now (request_active_slots).",
              w -> w.metrics().value(ForwardPassMetrics.ACTIVE_SLOTS)),
          new WorkerGauge(
              "llm_requests_total_slots",
              "Request capacity of the worker (request_total_slots).",
              w -> w.metrics().value(ForwardPassMetrics.TOTAL_SLOTS)),
          new WorkerGauge(
              "llm_kv_hit_rate_percent",
              "Prefix-cache hit rate reported by the worker, a 0..1 fraction despite the name (gpu_prefix_cache_hit_rate).",
              w -> w.metrics().value(ForwardPassMetrics.HIT_RATE)),
          new WorkerGauge(
              "llm_requests_waiting",
              "Requests queued on the worker (num_requests_waiting).",
              w -> w.metrics().value(ForwardPassMetrics.WAITING)),
          new WorkerGauge(
              "llm_gpu_cache_usage_ratio",
              "GPU KV-cache usage of the worker, 0..1 (gpu_cache_usage_perc).",
              w -> w.metrics().value(ForwardPassMetrics.CACHE_USAGE)),
          new WorkerGauge(
              "llm_decode_blocks_active",
              "KV blocks of the worker's decoding requests, where its release sends them apart from KV use (active_decode_blocks, Dynamo 1.1 on).",
              w -> w.metrics().value(ForwardPassMetrics.DECODE_BLOCKS)),
          new WorkerGauge(
              "llm_worker_stats_age_seconds",
              "Seconds since the worker's last value (stats reply or pushed load).",
              Worker::ageSeconds));

  /**
   * One info series per worker, {@code llm_worker_info}, always 1, that says how its values arrive
   * (the family's name, as the client names info families, without {@code _info}).
   */
  static final String WORKER_INFO = "llm_worker";

  static final String WORKER_INFO_HELP =
      "Always 1; label intake says how the worker's load arrives: stats (polled $SRV.STATS),"
          + " nats (pushed on NATS), stats+nats, or zmq (published on the ZMQ event plane).";

  static final List<EndpointGauge> ENDPOINT =
      List.of(
          new EndpointGauge(
              "llm_workers", "Live workers of the endpoint.", e -> e.workers().size()),
          new EndpointGauge(
              "llm_load_avg",
              "Mean kv_active_blocks over live workers that send it.",
              e -> aggregate(e, Aggregates::loadAvg)),
          new EndpointGauge(
              "llm_load_std",
              "Population standard deviation of kv_active_blocks over live workers.",
              e -> aggregate(e, Aggregates::loadStd)),
          new EndpointGauge(
              "llm_load_min",
              "Minimum kv_active_blocks over live workers.",
              e -> aggregate(e, Aggregates::loadMin)),
          new EndpointGauge(
              "llm_load_max",
              "Maximum kv_active_blocks over live workers.",
              e -> aggregate(e, Aggregates::loadMax)),
          new EndpointGauge(
              "llm_load_imbalance_ratio",
              "Max over mean kv_active_blocks; 1 is perfectly even. Absent when the mean is 0.",
              e -> aggregate(e, Aggregates::imbalanceRatio)),
          new EndpointGauge(
              "llm_kv_usage_ratio",
              "Sum of active over sum of total KV blocks of live workers.",
              e -> aggregate(e, Aggregates::kvUsageRatio)),
          new EndpointGauge(
              "llm_request_slots_usage_ratio",
              "Sum of active over sum of total request slots of live workers.",
              e -> aggregate(e, Aggregates::slotsUsageRatio)),
          new EndpointGauge(
              "llm_fleet_requests_waiting",
              "Requests queued over all live workers.",
              e -> aggregate(e, Aggregates::requestsWaiting)),
          new EndpointGauge(
              "llm_workers_registered",
              "Workers registered in etcd for the endpoint (with etcd discovery).",
              e -> e.registered() >= 0 ? e.registered() : Double.NaN),
          new EndpointGauge(
              "dynamo_metrics_poll_replies",
              "Stats replies in the last poll of the endpoint.",
              e -> e.poll().replies()));

  /** Every gauge name above (the counters move between polls). */
  static final List<String> NAMES =
      java.util.stream.Stream.of(
              WORKER.stream().map(WorkerGauge::name),
              java.util.stream.Stream.of(WORKER_INFO),
              ENDPOINT.stream().map(EndpointGauge::name))
          .flatMap(x -> x)
          .toList();

  /** Every family name: the gauges and the counters (without {@code _total}). */
  static final java.util.Set<String> ALL_NAMES =
      java.util.stream.Stream.concat(NAMES.stream(), HIT_RATES.stream().map(WorkerCounter::name))
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private static double aggregate(EndpointFleet e, ToDoubleFunction<Aggregates> f) {
    Aggregates a = e.aggregates();
    return a == null ? Double.NaN : f.applyAsDouble(a);
  }
}
