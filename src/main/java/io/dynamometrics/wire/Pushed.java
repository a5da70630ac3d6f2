package io.dynamometrics.wire;

/**
 * One message of Dynamo's event plane, decoded: what a worker (or a router) pushed. JSON messages
 * (0.4.1 to 0.8.x) have no {@link Envelope}; {@link #envelope} is then {@code null}.
 */
public sealed interface Pushed {
  Envelope envelope();

  /**
   * A worker's load on topic {@code kv_metrics}.
   *
   * @param fromRouter a KV router's estimate of the worker's load (it sends {@code
   *     active_prefill_tokens}, a worker never does), which must not stand for the worker's own
   */
  record Load(Envelope envelope, long workerId, ForwardPassMetrics metrics, boolean fromRouter)
      implements Pushed {}

  /** A router's routing decision on topic {@code kv-hit-rate}. */
  record HitRate(Envelope envelope, HitRateEvent event) implements Pushed {}

  /**
   * One engine iteration of one rank on topic {@code forward-pass-metrics} (1.2 on).
   *
   * @param engineWorkerId the engine's own name for the worker, not the instance id: the instance
   *     is found through the publisher's discovery record
   * @param activeRequests scheduled prefill plus decode requests
   * @param waitingRequests queued prefill plus decode requests
   */
  record ForwardPass(
      Envelope envelope,
      String engineWorkerId,
      int dpRank,
      long activeRequests,
      long waitingRequests)
      implements Pushed {}

  /** A topic this service does not read (KV events, cache state). */
  record Ignored(Envelope envelope, String topic) implements Pushed {}
}
