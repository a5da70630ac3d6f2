package io.dynamometrics.export;

import java.util.List;

/** The series names tests check, written once (docs/metrics.md lists them). */
public final class Series {
  /** The fleet series an aggregator in pull mode shows without etcd (no llm_workers_registered). */
  public static final List<String> FLEET =
      List.of(
          "llm_kv_blocks_active",
          "llm_kv_blocks_total",
          "llm_requests_active_slots",
          "llm_requests_total_slots",
          "llm_kv_hit_rate_percent",
          "llm_load_avg",
          "llm_load_std",
          "llm_kv_hit_rate_isl_blocks_total",
          "llm_kv_hit_rate_overlap_blocks_total",
          "llm_requests_waiting",
          "llm_gpu_cache_usage_ratio",
          "llm_worker_stats_age_seconds",
          "llm_workers",
          "llm_load_min",
          "llm_load_max",
          "llm_load_imbalance_ratio",
          "llm_kv_usage_ratio",
          "llm_request_slots_usage_ratio",
          "llm_fleet_requests_waiting",
          "llm_worker_info");

  /** What {@code --gpu} exports from NVML, under dcgm-exporter's names. */
  public static final List<String> NVML =
      List.of(
          "DCGM_FI_DEV_GPU_UTIL",
          "DCGM_FI_DEV_MEM_COPY_UTIL",
          "DCGM_FI_DEV_FB_USED",
          "DCGM_FI_DEV_FB_FREE",
          "DCGM_FI_DEV_GPU_TEMP",
          "DCGM_FI_DEV_MEMORY_TEMP",
          "DCGM_FI_DEV_POWER_USAGE",
          "DCGM_FI_DEV_SM_CLOCK",
          "DCGM_FI_DEV_MEM_CLOCK",
          "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
          "DCGM_FI_DEV_XID_ERRORS",
          "DCGM_FI_DEV_PCIE_REPLAY_COUNTER");

  private Series() {}
}
