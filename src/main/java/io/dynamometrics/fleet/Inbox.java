package io.dynamometrics.fleet;

import io.dynamometrics.wire.ForwardPassMetrics;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Pushed values waiting for the next tick of the fleet state: intakes hand them in from their own
 * threads, the poll thread takes them all once per tick. Only the latest value per worker and rank
 * (per publisher and rank for forward-pass metrics) is kept, so a flood of messages costs no memory
 * and the state sees each worker's newest value.
 */
public final class Inbox {
  /**
   * A worker's pushed load.
   *
   * @param hint the endpoint its subject names (1.4 on), or {@code null}
   */
  public record Load(
      Target hint, long workerId, ForwardPassMetrics metrics, Intake intake, long atNanos) {}

  /**
   * One rank's forward-pass figures, from a publisher that discovery links to a worker.
   *
   * @param hint the endpoint its subject names, or {@code null}
   */
  public record Pass(
      Target hint,
      long publisherId,
      int dpRank,
      long activeRequests,
      long waitingRequests,
      Intake intake,
      long atNanos) {}

  private record Key(long id, int rank) {}

  private final ConcurrentHashMap<Key, Load> loads = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Key, Pass> passes = new ConcurrentHashMap<>();
  private final int maxKeys;

  /**
   * @param maxKeys the most workers (and publishers) waiting at once: a guard against a flood of
   *     invented ids
   */
  public Inbox(int maxKeys) {
    this.maxKeys = maxKeys;
  }

  /** Keeps {@code load}; false when it was turned away because {@code maxKeys} are waiting. */
  public boolean offer(Load load) {
    Key k = new Key(load.workerId(), load.metrics().dpRank());
    if (loads.size() >= maxKeys && !loads.containsKey(k)) {
      return false;
    }
    loads.put(k, load);
    return true;
  }

  /** Keeps {@code pass}; false when it was turned away because {@code maxKeys} are waiting. */
  public boolean offer(Pass pass) {
    Key k = new Key(pass.publisherId(), pass.dpRank());
    if (passes.size() >= maxKeys && !passes.containsKey(k)) {
      return false;
    }
    passes.put(k, pass);
    return true;
  }

  /**
   * Puts back a value the poll loop could not place yet (its worker not yet in discovery), unless a
   * newer one of the same worker arrived meanwhile or {@code maxKeys} are waiting.
   */
  public void retry(Load load) {
    Key k = new Key(load.workerId(), load.metrics().dpRank());
    if (loads.size() < maxKeys) {
      loads.putIfAbsent(k, load);
    }
  }

  /** As {@link #retry(Load)}, for forward-pass metrics. */
  public void retry(Pass pass) {
    Key k = new Key(pass.publisherId(), pass.dpRank());
    if (passes.size() < maxKeys) {
      passes.putIfAbsent(k, pass);
    }
  }

  /** Hands every waiting value to the consumers, each once, and forgets it. */
  public void drain(Consumer<Load> onLoad, Consumer<Pass> onPass) {
    for (Key k : loads.keySet()) {
      Load l = loads.remove(k); // atomic: a value that arrives meanwhile waits for the next tick
      if (l != null) {
        onLoad.accept(l);
      }
    }
    for (Key k : passes.keySet()) {
      Pass p = passes.remove(k);
      if (p != null) {
        onPass.accept(p);
      }
    }
  }
}
