package io.dynamometrics.wire;

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
  private static final JsonWriter.Name ENDPOINTS = JsonWriter.Name.of("endpoints");
  private static final JsonWriter.Name NAME = JsonWriter.Name.of("name");
  private static final JsonWriter.Name SUBJECT = JsonWriter.Name.of("subject");
  private static final JsonWriter.Name DATA = JsonWriter.Name.of("data");
  private static final JsonWriter.Name ENGINE_LOAD_METRICS =
      JsonWriter.Name.of("engine_load_metrics");
  private static final JsonWriter.Name LOAD_AVG = JsonWriter.Name.of("load_avg");
  private static final JsonWriter.Name LOAD_STD = JsonWriter.Name.of("load_std");

  private L2cEncoder() {}

  public static byte[] encode(List<StatsEndpoint> endpoints, Double loadAvg, Double loadStd) {
    // written straight to bytes: with 10,000 workers this event is megabytes, once per poll
    JsonWriter g = new JsonWriter(64 + 480 * endpoints.size()); // a nested entry is about 420 B
    g.startObject();
    g.startObject(ENDPOINTS);
    Set<Long> written = new HashSet<>();
    for (StatsEndpoint e : endpoints) {
      ForwardPassMetrics m = e.metrics();
      if (!written.add(e.workerId())) {
        continue; // another rank of a worker already written: keys must stay integers
      }
      g.startObject(e.workerId());
      g.field(NAME, "worker-" + e.workerId());
      g.field(SUBJECT, e.subject());
      g.startObject(DATA);
      if (m.nested()) {
        // G3 (0.3.2 on): wrapped, as Dynamo 0.3.2's own aggregator publishes it (seen in the
        // conformance suite)
        g.startObject(ENGINE_LOAD_METRICS);
        MetricsWriter.nested(g, m, false);
        g.endObject();
      } else {
        MetricsWriter.flat(g, m, MetricsWriter.Rank.IF_PRESENT, false);
      }
      g.endObject();
      g.endObject();
    }
    g.endObject();
    number(g, LOAD_AVG, loadAvg);
    number(g, LOAD_STD, loadStd);
    g.endObject();
    return g.toByteArray();
  }

  private static void number(JsonWriter g, JsonWriter.Name field, Double v) {
    if (v == null) {
      g.nullField(field);
    } else {
      g.field(field, v.doubleValue());
    }
  }
}
