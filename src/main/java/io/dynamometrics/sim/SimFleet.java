package io.dynamometrics.sim;

import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import io.dynamometrics.transport.Transport;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A set of simulated workers driven by one ticker: traffic follows slow waves, the router is
 * imperfect (the first worker is "hot"), and with churn on, a worker leaves and a new one joins
 * periodically. Used by {@code mock-worker} and {@code demo}.
 */
public final class SimFleet implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SimFleet.class.getName());
  private static final double TICK_SECONDS = 0.1;
  private static final double WAVE_PERIOD_SECONDS = 240;

  /** What to simulate. {@code churnEvery} null or zero means a fixed set of workers. */
  public record Config(
      String namespace,
      String component,
      String endpoint,
      int workers,
      WireGeneration wire,
      long seed,
      double requestsPerSecond,
      Duration churnEvery) {}

  private final Transport transport;
  private final Config config;
  private final LeaseSource leases;
  private final Random random;
  private final List<MockWorker> workers = new ArrayList<>();
  private final ScheduledExecutorService ticker =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("sim-ticker").factory());
  private volatile boolean frozen;
  private double elapsed;
  private double sinceChurn;

  public SimFleet(Transport transport, Config config) {
    this(transport, config, null);
  }

  /**
   * @param leases where lease ids come from; {@code null} for random positive ids
   */
  public SimFleet(Transport transport, Config config, LeaseSource leases) {
    this.transport = transport;
    this.config = config;
    this.random = new Random(config.seed());
    this.leases =
        leases != null
            ? leases
            : new LeaseSource() {
              @Override
              public long acquire() {
                return 1
                    + (random.nextLong() >>> 1)
                        % Long.MAX_VALUE; // a random positive etcd-style lease id
              }

              @Override
              public void release(long lease) {}
            };
  }

  public synchronized SimFleet start() throws IOException {
    for (int i = 0; i < config.workers(); i++) {
      workers.add(newWorker());
    }
    long periodMicros = (long) (TICK_SECONDS * 1e6);
    // ends with the executor in close(); tickSafely logs what a tick throws, so no future is needed
    var unused =
        ticker.scheduleAtFixedRate(
            this::tickSafely, periodMicros, periodMicros, TimeUnit.MICROSECONDS);
    return this;
  }

  private MockWorker newWorker() throws IOException {
    long lease = leases.acquire();
    return new MockWorker(
            transport,
            config.namespace(),
            config.component(),
            config.endpoint(),
            config.wire(),
            lease,
            random.nextLong())
        .start();
  }

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      LOG.warning("simulation step failed: " + e);
    }
  }

  private synchronized void tick() {
    if (frozen) {
      return;
    }
    elapsed += TICK_SECONDS;
    double wave = 1 + 0.6 * Math.sin(2 * Math.PI * elapsed / WAVE_PERIOD_SECONDS);
    for (int i = 0; i < workers.size(); i++) {
      double hot = i == 0 && workers.size() > 1 ? 2.5 : 1;
      workers.get(i).tick(TICK_SECONDS, config.requestsPerSecond() * wave * hot);
    }
    Duration churn = config.churnEvery();
    if (churn != null
        && !churn.isZero()
        && (sinceChurn += TICK_SECONDS) >= churn.toMillis() / 1000.0) {
      sinceChurn = 0;
      if (workers.size() > 1) {
        MockWorker leaving = workers.remove(1 + random.nextInt(workers.size() - 1));
        retire(leaving);
        Log.log(
            LOG,
            Level.INFO,
            "simulated worker " + leaving.lease() + " left",
            Field.of("worker_id", leaving.lease()));
      }
      try {
        MockWorker joining = newWorker();
        workers.add(joining);
        Log.log(
            LOG,
            Level.INFO,
            "simulated worker " + joining.lease() + " joined",
            Field.of("worker_id", joining.lease()));
      } catch (IOException e) {
        LOG.warning("simulated worker could not join: " + e.getMessage());
      }
    }
  }

  /** Holds (or resumes) every worker's load where it is; workers keep answering. For tests. */
  public void freeze(boolean frozen) {
    this.frozen = frozen;
  }

  /** Stops the worker with {@code lease} (as if its process died); false when there is none. */
  public synchronized boolean stop(long lease) {
    for (int i = 0; i < workers.size(); i++) {
      if (workers.get(i).lease() == lease) {
        retire(workers.remove(i));
        return true;
      }
    }
    return false;
  }

  private void retire(MockWorker w) {
    w.close();
    leases.release(w.lease());
  }

  public synchronized List<Long> leases() {
    return workers.stream().map(MockWorker::lease).toList();
  }

  @Override
  public synchronized void close() {
    ticker.shutdownNow();
    workers.forEach(this::retire);
    workers.clear();
  }
}
