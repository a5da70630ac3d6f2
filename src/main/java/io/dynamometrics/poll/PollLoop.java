package io.dynamometrics.poll;

import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.FleetState;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.transport.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The heartbeat of the service: every poll interval, gather every target at once, fold the replies
 * into the fleet state, and hand the new snapshot to every reader (exposition, l2c, history).
 */
public final class PollLoop implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PollLoop.class.getName());

  private final Transport transport;
  private final Poller poller;
  private final Targets targets;
  private final FleetState state;
  private final long intervalNanos;
  private final List<Consumer<FleetSnapshot>> readers;
  private final ExecutorService gathers = Executors.newVirtualThreadPerTaskExecutor();
  private Thread thread;

  public PollLoop(
      Transport transport,
      Poller poller,
      Targets targets,
      FleetState state,
      Duration interval,
      List<Consumer<FleetSnapshot>> readers) {
    this.transport = transport;
    this.poller = poller;
    this.targets = targets;
    this.state = state;
    this.intervalNanos = interval.toNanos();
    this.readers = List.copyOf(readers);
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
    Set<Target> current = targets.current();
    List<Future<Poller.Result>> pending = new ArrayList<>(current.size());
    for (Target t : current) {
      Set<io.dynamometrics.fleet.WorkerKey> expected = state.answeredLastPoll(t);
      pending.add(gathers.submit(() -> poller.poll(t, expected)));
    }
    for (Future<Poller.Result> f : pending) {
      try {
        Poller.Result r = f.get();
        state.record(r.target(), r.endpoints(), r.replies(), r.startNanos(), r.endNanos());
      } catch (ExecutionException e) {
        LOG.log(Level.WARNING, "poll failed", e.getCause());
      }
    }
    state.retain(current);
    FleetSnapshot snapshot = state.snapshot(System.nanoTime(), transport.isConnected());
    for (Consumer<FleetSnapshot> reader : readers) {
      try {
        reader.accept(snapshot);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "snapshot reader " + reader.getClass().getSimpleName() + " failed", e);
      }
    }
    return snapshot;
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
  }
}
