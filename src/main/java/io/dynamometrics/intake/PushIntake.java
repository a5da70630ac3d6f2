package io.dynamometrics.intake;

import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Inbox;
import io.dynamometrics.fleet.Intake;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.poll.PollObserver;
import io.dynamometrics.transport.Transport;
import io.dynamometrics.wire.PushDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * What Dynamo pushes on NATS for one namespace: load ({@code kv_metrics}), hit-rate events ({@code
 * kv-hit-rate}) and forward-pass metrics, on the namespace-scoped subjects (0.4.1 to 1.3.x) and the
 * endpoint-scoped ones (1.4 on). Each message is decoded on the transport's delivery thread: load
 * and forward-pass figures wait in the {@link Inbox} for the next tick, hit-rate events count at
 * once. Nothing here decides who is a worker; the poll loop does, with the roster.
 */
public final class PushIntake implements AutoCloseable {
  private static final String[] TOPICS = {
    PushDecoder.KV_METRICS, PushDecoder.HIT_RATE, PushDecoder.FORWARD_PASS
  };

  private final Delivery delivery;
  private final Transport.Subscription subscription;

  public PushIntake(
      Transport transport,
      String namespace,
      Inbox inbox,
      HitRates hitRates,
      PollObserver observer) {
    this.delivery = new Delivery(namespace, inbox, hitRates, observer);
    this.subscription =
        transport.subscribeBounded(subjects(namespace), m -> accept(m.subject(), m.data()));
  }

  /** Every subject Dynamo has pushed load, hit rate or forward-pass metrics on. */
  public static List<String> subjects(String namespace) {
    List<String> out = new ArrayList<>();
    String ns = "namespace." + namespace + ".";
    for (String topic : TOPICS) {
      out.add(ns + topic);
      out.add(ns + "component.*." + topic);
      out.add(ns + "component.*.endpoint.*." + topic);
    }
    return out;
  }

  /** Decodes one message and hands it on; public so that benchmarks can drive it. */
  public void accept(String subject, byte[] data) {
    delivery.decode(topic(subject), data, hint(subject), Intake.NATS);
  }

  /** The topic {@code subject} ends with: one of the three constants, or whatever it is. */
  private static String topic(String subject) {
    for (String t : TOPICS) {
      if (subject.endsWith(t) && subject.charAt(subject.length() - t.length() - 1) == '.') {
        return t;
      }
    }
    return subject.substring(subject.lastIndexOf('.') + 1);
  }

  /**
   * The endpoint an endpoint-scoped subject names ({@code namespace.{ns}.component.{c}.endpoint.
   * {e}.{topic}}), or {@code null}.
   */
  static Target hint(String subject) {
    if (!subject.contains(".endpoint.")) {
      return null; // the namespace-scoped subjects, most of the traffic: nothing to read
    }
    String[] p = subject.split("\\.", -1);
    if (p.length == 7 && p[2].equals("component") && p[4].equals("endpoint")) {
      return new Target(p[1], p[3], p[5]);
    }
    return null;
  }

  /** Messages decoded since start (before the inbox keeps only each worker's latest). */
  public long decoded() {
    return delivery.decoded();
  }

  /** Messages the transport dropped because delivery fell behind. */
  public long dropped() {
    return subscription.dropped();
  }

  @Override
  public void close() {
    subscription.close();
  }
}
