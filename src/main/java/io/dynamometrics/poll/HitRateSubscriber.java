package io.dynamometrics.poll;

import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.transport.Transport;
import io.dynamometrics.wire.DecodeError;
import io.dynamometrics.wire.HitRateEvent;
import io.dynamometrics.wire.HitRateEventDecoder;
import io.dynamometrics.wire.Subjects;

/** Feeds {@code namespace.{ns}.kv-hit-rate} events into the hit-rate counters. */
public final class HitRateSubscriber implements AutoCloseable {
  private final Transport.Subscription subscription;

  public HitRateSubscriber(
      Transport transport, String namespace, HitRates hitRates, PollObserver observer) {
    this.subscription =
        transport.subscribeBounded(
            Subjects.hitRate(namespace),
            m -> {
              HitRateEvent event;
              try {
                event = HitRateEventDecoder.decode(m.data());
              } catch (IllegalArgumentException e) {
                observer.decodeError("event", DecodeError.INVALID_EVENT, e.getMessage());
                return;
              }
              if (hitRates.record(namespace, event, System.nanoTime())) {
                observer.eventAccepted(namespace);
              } else {
                observer.eventDropped(namespace);
              }
            });
  }

  /** Events the transport dropped because this subscriber fell behind. */
  public long dropped() {
    return subscription.dropped();
  }

  @Override
  public void close() {
    subscription.close();
  }
}
