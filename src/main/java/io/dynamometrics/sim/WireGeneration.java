package io.dynamometrics.sim;

import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.JsonWriter;
import io.dynamometrics.wire.MetricsWriter;
import io.dynamometrics.wire.PushDecoder;
import io.dynamometrics.wire.PushEncoder;
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
  /** v0.3.2 to v0.6.0: plain names, nested metrics (0.4.1 on also push them, as JSON). */
  G3,
  /** v0.6.1 to v0.7.x: no stats; the nested metrics pushed as JSON on {@code kv_metrics}. */
  PUSH_JSON,
  /** v0.8.x: no stats; JSON ActiveLoad (KV use as {@code active_decode_blocks}) pushed. */
  ACTIVE_LOAD,
  /** v0.9.0 to v1.3.x: the msgpack envelope with ActiveLoad on the namespace's subject. */
  ENVELOPE,
  /** v1.4.0 on: the envelope on the endpoint-scoped subject. */
  ENVELOPE_ENDPOINT;

  /** The names {@link #parse} takes, as users write them. */
  public static final String NAMES =
      "g1, g2, g3, push-json, active-load, envelope, envelope-endpoint";

  /** Parses a name of {@link #NAMES}, naming the bad value otherwise. */
  public static WireGeneration parse(String s) {
    try {
      return valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown wire generation '" + s + "' (expected one of " + NAMES + ")");
    }
  }

  /** Whether workers of this generation answer {@code $SRV.STATS} with their load. */
  public boolean answersStats() {
    return this == G1 || this == G2 || this == G3;
  }

  /** Whether workers of this generation push their load (0.6.1 on; the mock's G3 does not). */
  public boolean pushes() {
    return !answersStats();
  }

  /** The subject a worker of this generation pushes {@code topic} on. */
  public String pushSubject(String namespace, String component, String endpoint, String topic) {
    return this == ENVELOPE_ENDPOINT
        ? "namespace."
            + namespace
            + ".component."
            + component
            + ".endpoint."
            + endpoint
            + "."
            + topic
        : "namespace." + namespace + "." + topic;
  }

  /**
   * The load message of a worker of this generation ({@link #pushes} only).
   *
   * @param sequence the envelope's sequence number
   */
  public byte[] loadMessage(long workerId, ForwardPassMetrics m, long sequence) {
    int rank = m.hasRank() ? m.dpRank() : 0;
    return switch (this) {
      case PUSH_JSON -> PushEncoder.jsonWithData(workerId, m);
      case ACTIVE_LOAD -> PushEncoder.activeLoadJson(workerId, rank, m.kvActiveBlocks());
      case ENVELOPE, ENVELOPE_ENDPOINT ->
          PushEncoder.envelope(
              workerId,
              sequence,
              System.currentTimeMillis(),
              PushDecoder.KV_METRICS,
              // 1.1 on: KV use as kv_used_blocks, the decoding share beside it
              PushEncoder.activeLoad(
                  workerId, rank, m.kvActiveBlocks() * 3 / 4, m.kvActiveBlocks()));
      default -> throw new IllegalStateException(this + " does not push its load");
    };
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
