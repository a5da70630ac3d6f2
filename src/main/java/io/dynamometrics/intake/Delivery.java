package io.dynamometrics.intake;

import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Inbox;
import io.dynamometrics.fleet.Intake;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.poll.PollObserver;
import io.dynamometrics.wire.BadPayload;
import io.dynamometrics.wire.PushDecoder;
import io.dynamometrics.wire.Pushed;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where a decoded message goes, whichever plane brought it: load and forward-pass figures wait in
 * the {@link Inbox} for the next tick, hit-rate events count at once, a router's estimate is only
 * counted. Safe to call from several delivery threads at once.
 */
final class Delivery {
  private final String namespace;
  private final Inbox inbox;
  private final HitRates hitRates;
  private final PollObserver observer;
  private final LongAdder decoded = new LongAdder();

  Delivery(String namespace, Inbox inbox, HitRates hitRates, PollObserver observer) {
    this.namespace = namespace;
    this.inbox = inbox;
    this.hitRates = hitRates;
    this.observer = observer;
  }

  /**
   * Decodes one message of {@code topic} and hands it on; a payload that cannot be used is counted
   * and logged, as a hit-rate {@code event} or a {@code push}.
   *
   * @param hint the endpoint the message's subject or channel names, or {@code null}
   */
  void decode(String topic, byte[] data, Target hint, Intake intake) {
    Pushed p;
    try {
      p = PushDecoder.decode(topic, data);
    } catch (BadPayload e) {
      observer.decodeError(
          topic.equals(PushDecoder.HIT_RATE) ? "event" : "push", e.reason(), e.getMessage());
      return;
    }
    deliver(p, hint, intake, System.nanoTime());
  }

  /**
   * Hands on one decoded message.
   *
   * @param hint the endpoint the message's subject or channel names, or {@code null}
   */
  private void deliver(Pushed p, Target hint, Intake intake, long nowNanos) {
    decoded.increment();
    switch (p) {
      case Pushed.Load l -> {
        if (l.fromRouter()) {
          observer.loadMessage("router_estimate");
        } else if (!inbox.offer(
            new Inbox.Load(hint, l.workerId(), l.metrics(), intake, nowNanos))) {
          observer.loadMessage("inbox_full");
        }
      }
      case Pushed.ForwardPass f -> {
        Inbox.Pass pass =
            new Inbox.Pass(
                hint,
                f.envelope().publisherId(),
                f.dpRank(),
                f.activeRequests(),
                f.waitingRequests(),
                intake,
                nowNanos);
        if (!inbox.offer(pass)) {
          observer.loadMessage("inbox_full");
        }
      }
      case Pushed.HitRate h -> {
        if (hitRates.record(namespace, h.event(), nowNanos)) {
          observer.eventAccepted(namespace);
        } else {
          observer.eventDropped(namespace);
        }
      }
      case Pushed.Ignored ignored -> {
        // a topic this service does not read
      }
    }
  }

  /** Messages decoded since start (before the inbox keeps only each worker's latest). */
  long decoded() {
    return decoded.sum();
  }
}
