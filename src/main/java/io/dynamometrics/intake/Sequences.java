package io.dynamometrics.intake;

import java.util.HashMap;
import java.util.Map;

/**
 * Each event publisher's sequence, to count what the plane lost: a sequence that skips ahead lost
 * the messages in between; a sequence that starts again, or a new publisher id on a channel that
 * had another, is a restart. A publisher's first message only sets where it stands (a subscriber
 * that joins late misses what came before, and that is no loss). Used by one thread.
 */
final class Sequences {
  /** What one message told. */
  record Seen(long lost, boolean restarted) {
    static final Seen NOTHING = new Seen(0, false);
  }

  private final Map<Long, Long> last = new HashMap<>();
  private final Map<String, Long> publisherOfChannel = new HashMap<>();

  /**
   * Records message {@code sequence} of {@code publisherId}, sent on {@code channel} (a worker's
   * channel of one topic, where a new publisher id means the worker's process started again).
   */
  Seen seen(String channel, long publisherId, long sequence) {
    boolean restarted = false;
    Long before = publisherOfChannel.put(channel, publisherId);
    if (before != null && before != publisherId) {
      restarted = true;
      last.remove(before);
    }
    Long previous = last.put(publisherId, sequence);
    if (previous == null) {
      return restarted ? new Seen(0, true) : Seen.NOTHING;
    }
    if (Long.compareUnsigned(sequence, previous) <= 0) {
      return new Seen(0, true); // started again from 0 (or repeated): a restart
    }
    long lost = sequence - previous - 1;
    return lost == 0 && !restarted ? Seen.NOTHING : new Seen(lost, restarted);
  }

  /** Forgets a channel that left discovery, and its publisher. */
  void forget(String channel) {
    Long publisher = publisherOfChannel.remove(channel);
    if (publisher != null) {
      last.remove(publisher);
    }
  }

  /** Publishers being followed (for tests of what a departed channel leaves behind). */
  int size() {
    return last.size();
  }
}
