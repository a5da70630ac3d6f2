package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Encodes the aggregate event that KV routers read from {@code namespace.{ns}.l2c.{comp}.{ep}}.
 * Keys are decimal worker ids, always: Dynamo's consumers read them as 64-bit integers, so a key
 * like {@code id/rank} would make them drop the whole event. A worker reporting several
 * data-parallel ranks therefore has one entry, its first-listed rank's (Dynamo's own aggregator,
 * keyed the same way, keeps one too); every rank is still in {@code /metrics} and in the loads
 * here. The caller supplies {@code load_avg} and {@code load_std} (the mean and population
 * deviation of {@code kv_active_blocks}); {@code null} for both with no endpoints, as Dynamo sends.
 * Each endpoint's {@code data} has the form its worker sent: flat, or wrapped nested for G3.
 */
public final class L2cEncoder {
  private L2cEncoder() {}

  public static byte[] encode(List<StatsEndpoint> endpoints, Double loadAvg, Double loadStd) {
    // Streamed, not built as a tree: with 10,000 workers this event is megabytes, once per poll.
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + 320 * endpoints.size());
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeObjectFieldStart("endpoints");
      Set<Long> written = new HashSet<>();
      for (StatsEndpoint e : endpoints) {
        ForwardPassMetrics m = e.metrics();
        if (!written.add(e.workerId())) {
          continue; // another rank of a worker already written: keys must stay integers
        }
        g.writeObjectFieldStart(Long.toString(e.workerId()));
        g.writeStringField("name", "worker-" + e.workerId());
        g.writeStringField("subject", e.subject());
        g.writeObjectFieldStart("data");
        if (m.nested()) {
          // G3 (0.3.2 on): wrapped, as Dynamo 0.3.2's own aggregator publishes it (seen in the
          // conformance suite)
          g.writeObjectFieldStart("engine_load_metrics");
          MetricsWriter.nested(g, m, false);
          g.writeEndObject();
        } else {
          MetricsWriter.flat(g, m, MetricsWriter.Rank.IF_PRESENT, false);
        }
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
