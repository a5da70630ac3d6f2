package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
    // Streamed, not built as a tree: with 10,000 workers this event is megabytes, once per poll.
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + 320 * endpoints.size());
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeObjectFieldStart("endpoints");
      for (StatsEndpoint e : endpoints) {
        ForwardPassMetrics m = e.metrics();
        g.writeObjectFieldStart(Long.toString(e.workerId()) + (m.hasRank() ? "/" + m.dpRank() : ""));
        g.writeStringField("name", "worker-" + e.workerId());
        g.writeStringField("subject", e.subject());
        g.writeObjectFieldStart("data");
        if (m.hasRank()) {
          g.writeNumberField("data_parallel_rank", m.dpRank());
        }
        g.writeNumberField("request_active_slots", m.requestActiveSlots());
        g.writeNumberField("request_total_slots", m.requestTotalSlots());
        g.writeNumberField("kv_active_blocks", m.kvActiveBlocks());
        g.writeNumberField("kv_total_blocks", m.kvTotalBlocks());
        g.writeNumberField("num_requests_waiting", m.numRequestsWaiting());
        g.writeNumberField("gpu_cache_usage_perc", m.gpuCacheUsagePerc());
        g.writeNumberField("gpu_prefix_cache_hit_rate", m.gpuPrefixCacheHitRate());
        g.writeEndObject();
        g.writeEndObject();
      }
      g.writeEndObject();
      number(g, "load_avg", loadAvg);
      number(g, "load_std", loadStd);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory cannot fail", e);
    }
    return out.toByteArray();
  }

  private static void number(JsonGenerator g, String field, Double v) throws IOException {
    if (v == null) {
      g.writeNullField(field);
    } else {
      g.writeNumberField(field, v);
    }
  }
}
