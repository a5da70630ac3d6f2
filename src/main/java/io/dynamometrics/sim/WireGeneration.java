package io.dynamometrics.sim;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.ServiceNames;
import java.util.Locale;

/** How a Dynamo release names its service and shapes its metrics, for the mock worker to imitate. */
public enum WireGeneration {
  /** v0.1.1-v0.2.0: hashed service names, flat metrics. */
  G1,
  /** v0.2.1-v0.3.1: plain names, flat metrics with {@code data_parallel_rank}. */
  G2,
  /** v0.3.2 on: plain names, nested metrics. */
  G3;

  /** Parses {@code g1}, {@code g2} or {@code g3}, naming the bad value otherwise. */
  public static WireGeneration parse(String s) {
    try {
      return valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown wire generation '" + s + "' (expected g1, g2 or g3)");
    }
  }

  public String serviceName(String namespace, String component) {
    return this == G1 ? ServiceNames.g1(namespace, component) : ServiceNames.g2(namespace, component);
  }

  /** {@code m} as this generation's stats-handler JSON. */
  public String metricsJson(ForwardPassMetrics m) {
    ObjectNode data = io.dynamometrics.wire.Json.MAPPER.createObjectNode();
    writeMetrics(data, m);
    return data.toString();
  }

  /** Writes {@code m} as this generation's stats-handler JSON into {@code data}. */
  public void writeMetrics(ObjectNode data, ForwardPassMetrics m) {
    if (this == G3) {
      ObjectNode worker = data.putObject("worker_stats");
      if (m.hasRank()) {
        worker.put("data_parallel_rank", m.dpRank());
      } else {
        worker.putNull("data_parallel_rank");
      }
      worker.put("request_active_slots", m.requestActiveSlots());
      worker.put("request_total_slots", m.requestTotalSlots());
      worker.put("num_requests_waiting", m.numRequestsWaiting());
      ObjectNode kv = data.putObject("kv_stats");
      kv.put("kv_active_blocks", m.kvActiveBlocks());
      kv.put("kv_total_blocks", m.kvTotalBlocks());
      kv.put("gpu_cache_usage_perc", (float) m.gpuCacheUsagePerc());
      kv.put("gpu_prefix_cache_hit_rate", (float) m.gpuPrefixCacheHitRate());
      data.putNull("spec_decode_stats");
      return;
    }
    if (this == G2) {
      if (m.hasRank()) {
        data.put("data_parallel_rank", m.dpRank());
      } else {
        data.putNull("data_parallel_rank");
      }
    }
    data.put("request_active_slots", m.requestActiveSlots());
    data.put("request_total_slots", m.requestTotalSlots());
    data.put("kv_active_blocks", m.kvActiveBlocks());
    data.put("kv_total_blocks", m.kvTotalBlocks());
    data.put("num_requests_waiting", m.numRequestsWaiting());
    data.put("gpu_cache_usage_perc", (float) m.gpuCacheUsagePerc());
    data.put("gpu_prefix_cache_hit_rate", (float) m.gpuPrefixCacheHitRate());
  }
}
