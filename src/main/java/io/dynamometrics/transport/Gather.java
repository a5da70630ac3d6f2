package io.dynamometrics.transport;

import java.util.List;

/** The replies of one scatter-gather, read by one thread until it has enough or time runs out. */
public interface Gather extends AutoCloseable {
  /** A reply, or the bus saying that one subject has no subscribers at all. */
  record Reply(byte[] data, boolean noResponders) {
    public static final Reply NO_RESPONDERS = new Reply(new byte[0], true);
  }

  /**
   * The next reply, waiting at most until {@code deadlineNanos} ({@link System#nanoTime()} scale).
   *
   * @return {@code null} when the deadline passed first
   */
  Reply next(long deadlineNanos) throws InterruptedException;

  /** The replies that have arrived and not been read, without waiting. */
  List<Reply> drain();

  @Override
  void close();
}
