package io.dynamometrics.wire;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes the aggregate event that KV routers read from {@code namespace.{ns}.l2c.{comp}.{ep}}.
 * Keys are decimal worker ids ({@code id/rank} for data-parallel ranks, which would otherwise
 * collide). The caller supplies {@code load_avg} and {@code load_std} (the mean and population
 * deviation of {@code kv_active_blocks}); {@code null} for both with no endpoints, as Dynamo sends.
 */
public final class L2cEncoder {
  private L2cEncoder() {}

  public static byte[] encode(List<StatsEndpoint> endpoints, Double loadAvg, Double loadStd) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    ObjectNode eps = root.putObject("endpoints");
    for (StatsEndpoint e : endpoints) {
      ForwardPassMetrics m = e.metrics();
      String key = Long.toString(e.workerId()) + (m.hasRank() ? "/" + m.dpRank() : "");
      ObjectNode ep = eps.putObject(key);
      ep.put("name", "worker-" + e.workerId());
      ep.put("subject", e.subject());
      ObjectNode data = ep.putObject("data");
      if (m.hasRank()) {
        data.put("data_parallel_rank", m.dpRank());
      }
      data.put("request_active_slots", m.requestActiveSlots());
      data.put("request_total_slots", m.requestTotalSlots());
      data.put("kv_active_blocks", m.kvActiveBlocks());
      data.put("kv_total_blocks", m.kvTotalBlocks());
      data.put("num_requests_waiting", m.numRequestsWaiting());
      data.put("gpu_cache_usage_perc", m.gpuCacheUsagePerc());
      data.put("gpu_prefix_cache_hit_rate", m.gpuPrefixCacheHitRate());
    }
    root.put("load_avg", loadAvg);
    root.put("load_std", loadStd);
    return root.toString().getBytes(StandardCharsets.UTF_8);
  }
}
