package io.dynamometrics.transport;

import java.util.List;

/**
 * The three things the service does with a message bus: scatter-gather, publish, subscribe. {@link
 * NatsTransport} carries them over NATS; {@link LocalTransport} in process, so that the embedded
 * demo runs the very same poller and decoders as production.
 */
public interface Transport extends AutoCloseable {

  /**
   * Sends {@code payload} to every subject with one fresh reply inbox. The caller reads replies
   * from the returned gather and closes it. When not connected, the gather is empty.
   */
  Gather gather(List<String> subjects, byte[] payload);

  /** Fire and forget; dropped (not queued) while disconnected. */
  void publish(String subject, byte[] data);

  /**
   * Delivers every message on {@code subject} to {@code handler}.
   *
   * @param queue a queue group (one member receives each message), or {@code null} for none
   */
  Subscription subscribe(String subject, String queue, MessageHandler handler);

  /**
   * Like {@link #subscribe} without a queue group, for high-volume streams: every subject in {@code
   * subjects} (NATS wildcards allowed where the bus has them) delivered on one thread of its own
   * with one bounded queue, whose overflow {@link Subscription#dropped()} counts.
   */
  default Subscription subscribeBounded(List<String> subjects, MessageHandler handler) {
    List<Subscription> all = subjects.stream().map(s -> subscribe(s, null, handler)).toList();
    return new Subscription() {
      @Override
      public long dropped() {
        return all.stream().mapToLong(Subscription::dropped).sum();
      }

      @Override
      public void close() {
        all.forEach(Subscription::close);
      }
    };
  }

  boolean isConnected();

  /**
   * Connection attempts the server refused (credentials or TLS) since start; a bus without
   * authentication never refuses.
   */
  default long refusals() {
    return 0;
  }

  @Override
  void close();

  /** A message as a subscriber sees it. */
  record Message(String subject, String replyTo, byte[] data) {}

  @FunctionalInterface
  interface MessageHandler {
    void onMessage(Message message);
  }

  /** An active subscription. */
  interface Subscription extends AutoCloseable {
    /** Messages the transport had to drop because this subscriber fell behind. */
    long dropped();

    @Override
    void close();
  }
}
