package io.dynamometrics.poll;

import io.dynamometrics.fleet.Target;

/** What the input side reports about itself; the service's own metrics implement it. */
public interface PollObserver {
  void gathered(Target target, int replies, double seconds);

  /**
   * A payload, or part of one, that could not be used.
   *
   * @param source {@code stats}, {@code event}, {@code push} or {@code zmq} (a frame)
   * @param reason a fixed token from {@link io.dynamometrics.wire.DecodeError}
   */
  void decodeError(String source, String reason, String detail);

  void eventAccepted(String namespace);

  /** An event dropped because the counter table is full. */
  void eventDropped(String namespace);

  /**
   * One pushed load or forward-pass message, and what became of it.
   *
   * @param result {@code accepted}, {@code router_estimate}, {@code unknown_worker}, {@code
   *     unknown_publisher}, {@code forward_pass_without_etcd} or {@code inbox_full}
   */
  void loadMessage(String result);

  /** Workers of {@code target} not exported because it already has the maximum number. */
  void workersOverLimit(Target target, int refused);
}
