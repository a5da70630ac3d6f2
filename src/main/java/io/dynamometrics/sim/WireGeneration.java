package io.dynamometrics.sim;

import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.JsonWriter;
import io.dynamometrics.wire.MetricsWriter;
import io.dynamometrics.wire.ServiceNames;
import java.util.Locale;

/**
 * How a Dynamo release names its service and shapes its metrics, for the mock worker to imitate.
 */
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
      throw new IllegalArgumentException(
          "unknown wire generation '" + s + "' (expected g1, g2 or g3)");
    }
  }

  public String serviceName(String namespace, String component) {
    return this == G1
        ? ServiceNames.g1(namespace, component)
        : ServiceNames.g2(namespace, component);
  }

  /** {@code m} as this generation's stats-handler JSON. */
  public String metricsJson(ForwardPassMetrics m) {
    JsonWriter g = new JsonWriter(256).startObject();
    if (this == G3) {
      MetricsWriter.nested(g, m, true);
    } else {
      MetricsWriter.flat(
          g, m, this == G1 ? MetricsWriter.Rank.OMIT : MetricsWriter.Rank.ALWAYS, true);
    }
    return g.endObject().toString();
  }
}
