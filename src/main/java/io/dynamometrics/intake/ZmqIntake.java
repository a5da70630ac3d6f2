package io.dynamometrics.intake;

import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Inbox;
import io.dynamometrics.fleet.Intake;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import io.dynamometrics.poll.PollObserver;
import io.dynamometrics.wire.BadPayload;
import io.dynamometrics.wire.DecodeError;
import io.dynamometrics.wire.PushDecoder;
import io.dynamometrics.wire.ZmqFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZEvent;
import org.zeromq.ZMQ;

/**
 * Dynamo's ZMQ event plane (1.3 on, by default): one SUB socket connected to every publisher that
 * discovery advertises for the topics read here, and to no other. Each roster the poll loop reads
 * is handed to {@link #accept}; the socket's own thread connects to channels that appeared and
 * disconnects from those that went. Messages are read as four frames ({@link ZmqFrame}), their
 * envelopes by the same decoder as on NATS, and delivered like NATS messages. Per publisher, a
 * sequence that skips ahead counts lost messages and a new publisher id on a worker's channel a
 * restart. A publisher that cannot be reached is logged once, naming its address, its worker and
 * what fixes it.
 */
public final class ZmqIntake implements AutoCloseable, Consumer<Roster> {
  private static final Logger LOG = Logger.getLogger(ZmqIntake.class.getName());

  /** The topics read here; a channel of another topic (kv-events) is never connected. */
  static final Set<String> TOPICS =
      Set.of(PushDecoder.KV_METRICS, PushDecoder.FORWARD_PASS, PushDecoder.HIT_RATE);

  /** The largest frame accepted; a frame header that claims more closes the connection. */
  static final long MAX_FRAME = 1 << 20;

  /** Messages queued per publisher before the publisher's side drops (ZMQ's high-water mark). */
  static final int QUEUE_PER_PUBLISHER = 1000;

  /** How long a connection may stay unestablished before its publisher counts as unreachable. */
  static final long UNREACHABLE_AFTER_NANOS = 5_000_000_000L;

  /**
   * A refused connection counts only once a publisher has been known this long, as long as one that
   * does not answer at all: a worker that has just advertised its publisher may not have its socket
   * listening yet (on a busy machine for longer than a moment), and the socket retries every 100
   * ms.
   */
  static final long REFUSED_AFTER_NANOS = UNREACHABLE_AFTER_NANOS;

  /**
   * The state of one publisher's connection, as {@code dynamo_metrics_zmq_publishers} labels it.
   */
  public enum State {
    CONNECTING("connecting"),
    CONNECTED("connected"),
    UNREACHABLE("unreachable");

    public final String label;

    State(String label) {
      this.label = label;
    }
  }

  /** What the ZMQ intake reports beyond what every intake does; the self metrics implement it. */
  public interface Observer {
    /** {@code messages} a publisher's sequence skipped (lost on the way). */
    void lost(long messages);

    /** A publisher started again: a new id on a worker's channel, or its sequence from 0. */
    void restarted();

    /** A connected publisher's connection closed. */
    void disconnected();

    /** The publishers by state, each time a count changes. */
    void publishers(Map<State, Integer> byState);
  }

  private static final int MONITORED =
      ZMQ.EVENT_CONNECTED
          | ZMQ.EVENT_CONNECT_RETRIED
          | ZMQ.EVENT_DISCONNECTED
          | ZMQ.EVENT_HANDSHAKE_PROTOCOL
          | ZMQ.HANDSHAKE_FAILED_PROTOCOL
          | ZMQ.HANDSHAKE_FAILED_NO_DETAIL;

  private final Delivery delivery;
  private final PollObserver observer;
  private final Observer zmqObserver;
  private final String monitorAddress;
  private final String wakeAddress;
  private final ZMQ.Socket waker;
  private final ZContext context = new ZContext(1);
  private final AtomicReference<Map<String, List<Roster.Channel>>> wanted =
      new AtomicReference<>(Map.of());
  private final Thread thread;
  private volatile boolean closing;

  // owned by the socket thread
  private final Map<String, Link> links = new HashMap<>();
  private Map<Long, Known> byPublisher = Map.of();
  private Map<String, List<Roster.Channel>> applied = Map.of();
  private final Sequences sequences = new Sequences();
  private volatile Map<State, Integer> counts = Map.of();
  private volatile int followed;

  /** A publisher discovery names, and the key its sequences are followed under (made once). */
  private record Known(Roster.Channel channel, String key) {}

  /** One publisher address and what the service knows of its connection. */
  private static final class Link {
    final String address;
    List<Roster.Channel> channels;
    State state = State.CONNECTING;
    long sinceNanos;
    boolean loggedUnreachable;

    /** Disconnected for good: it is not a Dynamo publisher (until discovery changes it). */
    boolean refused;

    /**
     * It was reached once: a publisher that then goes quiet has stopped or crashed (its worker
     * leaves with its lease), not one the service cannot reach.
     */
    boolean reached;

    Link(String address, List<Roster.Channel> channels, long now) {
      this.address = address;
      this.channels = channels;
      this.sinceNanos = now;
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger INSTANCES =
      new java.util.concurrent.atomic.AtomicInteger();

  public ZmqIntake(
      String namespace,
      Inbox inbox,
      HitRates hitRates,
      PollObserver observer,
      Observer zmqObserver) {
    this.delivery = new Delivery(namespace, inbox, hitRates, observer);
    this.observer = observer;
    this.zmqObserver = zmqObserver;
    int instance = INSTANCES.incrementAndGet();
    this.monitorAddress = "inproc://zmq-intake-monitor-" + instance;
    this.wakeAddress = "inproc://zmq-intake-wake-" + instance;
    ZMQ.Socket sub = context.createSocket(SocketType.SUB);
    sub.setLinger(0);
    sub.setRcvHWM(QUEUE_PER_PUBLISHER);
    sub.setMaxMsgSize(MAX_FRAME);
    sub.setReconnectIVL(100);
    sub.setReconnectIVLMax(5000);
    sub.setTCPKeepAlive(1);
    // a handshake that stalls (a peer that accepts but never speaks ZMTP, or JeroMQ losing a race
    // when publishers come and go quickly) is dropped after 2 s and tried again
    sub.setHandshakeIvl(2000);
    for (String topic : TOPICS) {
      sub.subscribe(topic.getBytes(StandardCharsets.UTF_8));
    }
    sub.monitor(monitorAddress, MONITORED);
    ZMQ.Socket monitor = context.createSocket(SocketType.PAIR);
    monitor.connect(monitorAddress);
    ZMQ.Socket wake = context.createSocket(SocketType.PAIR);
    wake.bind(wakeAddress);
    waker = context.createSocket(SocketType.PAIR);
    waker.connect(wakeAddress);
    thread = Thread.ofPlatform().name("zmq-intake").daemon().start(() -> run(sub, monitor, wake));
  }

  /**
   * Follows discovery: the channels of {@code roster} whose topics are read here become the set of
   * publishers connected. Called by the poll loop on every roster it reads.
   */
  @Override
  public void accept(Roster roster) {
    Map<String, List<Roster.Channel>> m = new HashMap<>();
    for (Roster.Channel c : roster.zmq()) {
      if (TOPICS.contains(c.topic())) {
        m.computeIfAbsent(c.endpoint(), k -> new ArrayList<>()).add(c);
      }
    }
    Map<String, List<Roster.Channel>> next = Map.copyOf(m);
    if (!next.equals(wanted.getAndSet(next))) {
      synchronized (waker) { // the socket thread picks the change up now, not at its next timeout
        waker.send(new byte[0], ZMQ.DONTWAIT);
      }
    }
  }

  private void run(ZMQ.Socket sub, ZMQ.Socket monitor, ZMQ.Socket wake) {
    ZMQ.Poller poller = context.createPoller(3);
    poller.register(sub, ZMQ.Poller.POLLIN);
    poller.register(monitor, ZMQ.Poller.POLLIN);
    poller.register(wake, ZMQ.Poller.POLLIN);
    byte[][] frames = new byte[4][];
    try {
      while (!closing && !Thread.currentThread().isInterrupted()) {
        long now = System.nanoTime();
        follow(sub, now);
        if (poller.poll(100) < 0) {
          break; // the context was closed
        }
        if (poller.pollin(1)) {
          events(sub, monitor, System.nanoTime());
        }
        if (poller.pollin(0)) {
          receive(sub, frames);
        }
        if (poller.pollin(2)) {
          while (wake.recv(ZMQ.DONTWAIT) != null) {
            // the change is read from wanted at the top of the loop
          }
        }
        ageConnections(System.nanoTime());
      }
    } catch (org.zeromq.ZMQException | IllegalStateException e) {
      if (!closing) {
        Log.log(LOG, Level.SEVERE, "the ZMQ event intake stopped", e);
      }
    } finally {
      poller.close();
    }
  }

  /** Connects to publishers discovery added and disconnects from those it removed. */
  private void follow(ZMQ.Socket sub, long now) {
    Map<String, List<Roster.Channel>> want = wanted.get();
    if (want == applied) {
      return;
    }
    applied = want;
    for (var it = links.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!want.containsKey(e.getKey())) {
        sub.disconnect(e.getKey());
        for (Roster.Channel c : e.getValue().channels) {
          sequences.forget(channelOf(c));
        }
        it.remove();
      }
    }
    Map<Long, Known> publishers = new HashMap<>();
    for (Map.Entry<String, List<Roster.Channel>> e : want.entrySet()) {
      Link link = links.get(e.getKey());
      if (link == null) {
        if (!sub.connect(e.getKey())) {
          Roster.Channel c = e.getValue().get(0);
          Log.log(
              LOG,
              Level.WARNING,
              "cannot connect to event publisher "
                  + e.getKey()
                  + " of worker "
                  + Long.toUnsignedString(c.workerId())
                  + ": not an address ZMQ can use",
              Field.of("address", e.getKey()),
              Field.of("worker_id", Long.toUnsignedString(c.workerId())));
        }
        link = new Link(e.getKey(), e.getValue(), now);
        links.put(e.getKey(), link);
      }
      link.channels = e.getValue();
      for (Roster.Channel c : e.getValue()) {
        publishers.put(c.publisherId(), new Known(c, channelOf(c)));
      }
    }
    byPublisher = publishers;
    followed = sequences.size();
    report();
  }

  /** Applies the socket monitor's events: which publishers are connected, which cannot be. */
  private void events(ZMQ.Socket sub, ZMQ.Socket monitor, long now) {
    ZEvent event;
    while ((event = ZEvent.recv(monitor, ZMQ.DONTWAIT)) != null) {
      Link link = event.getAddress() == null ? null : links.get(event.getAddress());
      if (link == null) {
        continue; // a publisher discovery has removed since
      }
      switch (event.getEvent()) {
        case CONNECTED -> {
          // TCP only: connected once the ZMTP handshake is done (HANDSHAKE_PROTOCOL)
        }
        case CONNECT_RETRIED -> {
          if (now - link.sinceNanos >= REFUSED_AFTER_NANOS) {
            unreachable(link, "connection refused");
          }
        }
        case DISCONNECTED -> {
          if (link.state == State.CONNECTED) {
            link.state = State.CONNECTING;
            link.sinceNanos = now;
            zmqObserver.disconnected(); // killed mid-stream, or it broke the protocol
          }
        }
        case HANDSHAKE_PROTOCOL -> {
          if (link.refused) {
            continue;
          }
          if (event.getValue() instanceof Integer zmtp && zmtp >= 3) {
            if (link.loggedUnreachable) {
              Log.log(
                  LOG,
                  Level.INFO,
                  "event publisher " + link.address + " is reachable now",
                  Field.of("address", link.address));
            }
            link.state = State.CONNECTED;
            link.sinceNanos = now;
            link.loggedUnreachable = false;
            link.reached = true;
          } else {
            // ZMTP 1.0 or 2.0, or bytes that are not ZMTP at all: no Dynamo publisher
            observer.decodeError(
                "zmq",
                DecodeError.INVALID_FRAME,
                "the publisher at " + link.address + " does not speak ZMTP 3");
            sub.disconnect(link.address);
            link.refused = true;
            unreachable(link, "it does not speak ZMTP 3: not a Dynamo event publisher");
          }
        }
        case HANDSHAKE_FAILED_PROTOCOL, HANDSHAKE_FAILED_NO_DETAIL -> {
          observer.decodeError(
              "zmq",
              DecodeError.INVALID_FRAME,
              "the ZMTP handshake with " + link.address + " failed");
          if (link.state == State.CONNECTED) {
            link.state = State.CONNECTING;
            link.sinceNanos = now;
          }
        }
        default -> {
          // not monitored
        }
      }
    }
    report();
  }

  /** Publishers still unconnected after {@link #UNREACHABLE_AFTER_NANOS} are unreachable. */
  private void ageConnections(long now) {
    boolean changed = false;
    for (Link l : links.values()) {
      if (l.state == State.CONNECTING
          && !l.reached
          && now - l.sinceNanos > UNREACHABLE_AFTER_NANOS) {
        unreachable(l, "no connection within " + UNREACHABLE_AFTER_NANOS / 1_000_000_000 + " s");
        changed = true;
      }
    }
    if (changed) {
      report();
    }
  }

  private void unreachable(Link link, String why) {
    if (link.state == State.CONNECTED || (link.reached && !link.refused)) {
      return; // it went away after it was reached: reconnecting, until discovery drops it
    }
    link.state = State.UNREACHABLE;
    if (link.loggedUnreachable) {
      return;
    }
    link.loggedUnreachable = true;
    Roster.Channel c = link.channels.get(0);
    String worker = Long.toUnsignedString(c.workerId());
    Log.log(
        LOG,
        Level.WARNING,
        "cannot reach event publisher "
            + link.address
            + " of worker "
            + worker
            + (c.scope() != null ? " (" + c.scope() + ")" : "")
            + " ("
            + why
            + "); its load is not seen until it is. A worker advertises its resolved address"
            + " unless DYN_EVENT_PLANE_HOST is set: set DYN_EVENT_PLANE_HOST on the worker to an"
            + " address this service can reach (on Kubernetes, the pod IP), and allow the"
            + " connection through firewalls and network policies",
        Field.of("address", link.address),
        Field.of("worker_id", worker),
        Field.of("topic", c.topic()));
  }

  /** Tells the observer the publishers by state when a count changed. */
  private void report() {
    Map<State, Integer> counts = new HashMap<>();
    for (State s : State.values()) {
      counts.put(s, 0);
    }
    for (Link l : links.values()) {
      counts.merge(l.state, 1, Integer::sum);
    }
    if (!counts.equals(this.counts)) {
      this.counts = Map.copyOf(counts);
      zmqObserver.publishers(this.counts);
    }
  }

  /** Reads what has arrived, at most a batch, so that discovery changes are never held up long. */
  private void receive(ZMQ.Socket sub, byte[][] frames) {
    for (int n = 0; n < 10_000; n++) {
      byte[] first = sub.recv(ZMQ.DONTWAIT);
      if (first == null) {
        return;
      }
      int count = 1;
      frames[0] = first;
      while (sub.hasReceiveMore()) {
        byte[] part = sub.recv();
        if (count < frames.length) {
          frames[count] = part;
        }
        count++;
      }
      handle(frames, count);
    }
  }

  private void handle(byte[][] frames, int count) {
    ZmqFrame frame;
    try {
      frame = ZmqFrame.decode(count == frames.length ? frames : new byte[count][]);
    } catch (BadPayload e) {
      observer.decodeError("zmq", e.reason(), e.getMessage());
      return;
    }
    Known known = byPublisher.get(frame.publisherId());
    Sequences.Seen seen =
        sequences.seen(
            known != null ? known.key() : "publisher/" + Long.toHexString(frame.publisherId()),
            frame.publisherId(),
            frame.sequence());
    if (seen.lost() > 0) {
      zmqObserver.lost(seen.lost());
    }
    if (seen.restarted()) {
      zmqObserver.restarted();
    }
    followed = sequences.size();
    delivery.decode(
        frame.topic(),
        frame.envelope(),
        known != null ? known.channel().scope() : null,
        Intake.ZMQ);
  }

  /** Where a channel's messages come from: its worker's channel of that topic. */
  private static String channelOf(Roster.Channel c) {
    return Long.toUnsignedString(c.workerId()) + "/" + c.topic();
  }

  /** Messages decoded since start. */
  public long decoded() {
    return delivery.decoded();
  }

  /** The publishers by state, as last reported. */
  public Map<State, Integer> publishers() {
    return counts;
  }

  /** Publishers whose sequences are followed now (for tests: none is kept after it goes). */
  int followed() {
    return followed;
  }

  @Override
  public void close() {
    closing = true;
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    context.close();
  }
}
