package io.dynamometrics.poll;

import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.FleetState;
import io.dynamometrics.fleet.Inbox;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import io.dynamometrics.transport.Transport;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The heartbeat of the service: every poll interval, read the roster (etcd), gather every polled
 * target at once, fold the replies and the pushed values waiting in the inbox into the fleet state,
 * and hand the new snapshot to every reader (exposition, l2c, history). The tick is the same for
 * every release: a polled fleet ticks when its gathers end, a pushed one on the interval.
 */
public final class PollLoop implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PollLoop.class.getName());

  private final Transport transport;
  private final Poller poller;
  private final Targets targets;
  private final FleetState state;
  private final long intervalNanos;
  private final List<Consumer<FleetSnapshot>> readers;
  private final WorkerRegistry registry;
  private final PollObserver observer;
  private final Inbox inbox;
  private final Target unplaced;
  private final Consumer<Roster> rosterReader;
  private boolean registryFailing;
  private final ExecutorService gathers = Executors.newVirtualThreadPerTaskExecutor();
  private Thread thread;

  public PollLoop(
      Transport transport,
      Poller poller,
      Targets targets,
      FleetState state,
      Duration interval,
      List<Consumer<FleetSnapshot>> readers,
      WorkerRegistry registry,
      PollObserver observer,
      Inbox inbox,
      Target unplaced,
      Consumer<Roster> rosterReader) {
    this.transport = transport;
    this.poller = poller;
    this.targets = targets;
    this.state = state;
    this.intervalNanos = interval.toNanos();
    this.readers = List.copyOf(readers);
    this.registry = registry;
    this.observer = observer;
    this.inbox = inbox;
    this.unplaced = unplaced;
    this.rosterReader = rosterReader;
  }

  public void start() {
    thread = Thread.ofPlatform().name("poll-loop").start(this::run);
  }

  private void run() {
    long next = System.nanoTime();
    try {
      while (!Thread.currentThread().isInterrupted()) {
        cycle();
        next += intervalNanos;
        long now = System.nanoTime();
        if (next < now) { // overran: skip the missed ticks instead of bursting to catch up
          next = now + intervalNanos - (now - next) % intervalNanos;
        }
        Thread.sleep(Duration.ofNanos(next - now));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One poll of every target; public so tests and benchmarks can drive the loop by hand. */
  public FleetSnapshot cycle() throws InterruptedException {
    Roster roster = roster();
    if (roster != null && rosterReader != null) {
      rosterReader.accept(roster); // the ZMQ intake follows the publishers it advertises
    }
    Map<Target, Set<Long>> registered = roster == null ? null : roster.registered(targets::accepts);
    Set<Target> current = new TreeSet<>(targets.current());
    if (roster != null) {
      roster.polled().stream().filter(targets::accepts).forEach(current::add);
    }
    List<Target> order = List.copyOf(current);
    List<Future<Poller.Result>> pending = new ArrayList<>(order.size());
    for (Target t : order) {
      Set<Long> expected =
          registered != null && registered.containsKey(t)
              ? registered.get(t)
              : state.answeredLastPoll(t);
      pending.add(gathers.submit(() -> poller.poll(t, expected)));
    }
    for (int i = 0; i < pending.size(); i++) {
      Future<Poller.Result> f = pending.get(i);
      try {
        Poller.Result r = f.get();
        int refused =
            state.record(
                r.target(),
                r.endpoints(),
                r.replies(),
                r.startNanos(),
                r.lastReplyNanos(),
                r.endNanos());
        if (refused > 0) {
          observer.workersOverLimit(r.target(), refused);
        }
        if (registered != null) {
          state.registered(r.target(), registered.getOrDefault(r.target(), Set.of()));
        }
      } catch (ExecutionException e) {
        Target t = order.get(i);
        Log.log(
            LOG,
            Level.WARNING,
            "poll of " + t + " failed",
            e.getCause(),
            Field.of("endpoint", t.toString()));
      }
    }
    long now = System.nanoTime();
    if (inbox != null) {
      List<Inbox.Load> earlyLoads = new ArrayList<>();
      List<Inbox.Pass> earlyPasses = new ArrayList<>();
      inbox.drain(
          l -> {
            if (early(roster, roster != null && roster.knows(l.workerId()), l.atNanos(), now)) {
              earlyLoads.add(l);
            } else {
              place(l, roster);
            }
          },
          p -> {
            boolean known = roster != null && roster.workerOf(p.publisherId()) != null;
            if (early(roster, known, p.atNanos(), now)) {
              earlyPasses.add(p);
            } else {
              place(p, roster);
            }
          });
      earlyLoads.forEach(inbox::retry); // placed on a later tick, once discovery shows the worker
      earlyPasses.forEach(inbox::retry);
    }
    state.roster(roster, now);
    if (roster != null) {
      state.follow(id -> roster.target(id, targets::accepts));
    }
    if (registered != null) {
      registered.forEach(
          (t, ids) -> {
            if (!current.contains(t)) {
              state.registered(t, ids); // a pushed fleet's count; polled ones were set above
            }
          });
    }
    state.retain(current);
    poller.retain(current);
    FleetSnapshot snapshot = state.snapshot(System.nanoTime(), transport.isConnected());
    for (Consumer<FleetSnapshot> reader : readers) {
      try {
        reader.accept(snapshot);
      } catch (RuntimeException e) {
        LOG.log(
            Level.WARNING, "snapshot reader " + reader.getClass().getSimpleName() + " failed", e);
      }
    }
    return snapshot;
  }

  /**
   * How long a pushed value of a worker discovery does not show yet waits for it. A worker writes
   * its instance key before it publishes, so such a value is either early (the roster was read just
   * before the key was written) or late (the worker is gone): an early one is placed when the key
   * shows, a late one is dropped after this and never brings its worker back. Idle workers publish
   * once, so an early value dropped would be missing until the worker's next change.
   */
  static final long EARLY_GRACE_NANOS = 5_000_000_000L;

  /** Whether a value that discovery does not place ({@code !known}) still waits for its key. */
  private static boolean early(Roster roster, boolean known, long atNanos, long now) {
    return roster != null && !known && now - atNanos < EARLY_GRACE_NANOS;
  }

  /**
   * The endpoint a pushed value of {@code workerId} is shown under: the roster's choice, or without
   * a roster the endpoint its subject names, else the one given on the command line; {@code null}
   * when the value is not to be used (counted).
   */
  private Target placeOf(long workerId, Target hint, Roster roster) {
    if (roster != null) {
      if (!roster.knows(workerId)) {
        observer.loadMessage("unknown_worker"); // gone, or never registered: never resurrected
        return null;
      }
      return roster.target(workerId, targets::accepts); // null: an endpoint not aggregated here
    }
    Target t = hint != null ? hint : unplaced;
    return targets.accepts(t) ? t : null;
  }

  private void place(Inbox.Load l, Roster roster) {
    Target t = placeOf(l.workerId(), l.hint(), roster);
    if (t == null) {
      return;
    }
    if (state.pushed(t, l.workerId(), l.metrics(), l.intake(), l.atNanos())) {
      observer.loadMessage("accepted");
    } else {
      observer.workersOverLimit(t, 1);
    }
  }

  private void place(Inbox.Pass p, Roster roster) {
    Long worker = roster == null ? null : roster.workerOf(p.publisherId());
    if (worker == null) {
      // forward-pass metrics name the engine, not the instance: only discovery links them
      observer.loadMessage(roster == null ? "forward_pass_without_etcd" : "unknown_publisher");
      return;
    }
    Target t = placeOf(worker, p.hint(), roster);
    if (t == null) {
      return;
    }
    if (state.passed(
        t, worker, p.dpRank(), p.activeRequests(), p.waitingRequests(), p.intake(), p.atNanos())) {
      observer.loadMessage("accepted");
    } else {
      observer.workersOverLimit(t, 1);
    }
  }

  /**
   * What discovery says now, or {@code null} without it or when it cannot be read (then staleness
   * rules).
   */
  private Roster roster() {
    if (registry == null) {
      return null;
    }
    try {
      Roster r = registry.roster();
      if (registryFailing) {
        registryFailing = false;
        LOG.info("reading worker registrations from " + registry.source() + " again");
      }
      return r;
    } catch (WorkerRegistry.Unavailable e) {
      return null; // logged where it is known why
    } catch (IOException e) {
      if (!registryFailing) {
        registryFailing = true;
        LOG.warning(
            "cannot read worker registrations from "
                + registry.source()
                + " ("
                + e.getMessage()
                + "); workers age out by staleness until it answers");
      }
      return null;
    }
  }

  @Override
  public void close() {
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    gathers.shutdownNow();
    poller.close();
  }
}
