package io.dynamometrics.fleet;

import io.dynamometrics.wire.HitRateEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-worker KV hit-rate counters fed by router events. Thread-safe: events arrive on the
 * transport's threads while scrapes read. Events name only the worker, so a counter takes the
 * component and endpoint of the fleet the worker is live in; it is labelled once, at the first poll
 * after its first event (and not shown before), so a counter never changes labels. Counters of
 * workers that neither send events nor answer stats for {@code expiry} disappear.
 */
public final class HitRates {
  /** A counter pair of one worker, as of a read. */
  public record Counter(Target target, long workerId, long islBlocks, long overlapBlocks) {}

  private record Key(String namespace, long workerId) {}

  private static final class Cell {
    volatile Target target; // null until the first poll after the first event labels it
    final AtomicLong isl = new AtomicLong();
    final AtomicLong overlap = new AtomicLong();
    volatile long lastEventNanos;
  }

  private final ConcurrentHashMap<Key, Cell> cells = new ConcurrentHashMap<>();
  private final int maxSeries;
  private final long expiryNanos;

  public HitRates(int maxSeries, long expiryNanos) {
    this.maxSeries = maxSeries;
    this.expiryNanos = expiryNanos;
  }

  /**
   * Adds one event.
   *
   * @return false when the event was dropped because {@code maxSeries} workers are already counted
   */
  public boolean record(String namespace, HitRateEvent event, long nowNanos) {
    Key key = new Key(namespace, event.workerId());
    Cell cell = cells.get(key);
    if (cell == null) {
      if (cells.size() >= maxSeries) {
        return false;
      }
      cell = cells.computeIfAbsent(key, k -> new Cell());
    }
    cell.isl.addAndGet(event.islBlocks());
    cell.overlap.addAndGet(event.overlapBlocks());
    cell.lastEventNanos = nowNanos;
    return true;
  }

  private static Target labelsFor(String namespace, long workerId, FleetSnapshot fleet) {
    Target live = fleet.targetOf(workerId);
    if (live != null) {
      return live;
    }
    List<Target> inNamespace =
        fleet.endpoints().stream()
            .map(EndpointFleet::target)
            .filter(t -> t.namespace().equals(namespace))
            .toList();
    // An event-only worker (Dynamo's mock router invents ids) belongs to the one endpoint we
    // aggregate, if there is exactly one; otherwise we cannot know.
    return inNamespace.size() == 1 ? inNamespace.get(0) : new Target(namespace, "", "");
  }

  /**
   * Called after each poll: labels new counters from {@code fleet}, and drops counters of workers
   * without events for the expiry period that are not live in it.
   */
  public void update(FleetSnapshot fleet, long nowNanos) {
    cells.forEach(
        (k, c) -> {
          if (c.target == null) {
            c.target = labelsFor(k.namespace, k.workerId, fleet);
          }
        });
    cells
        .entrySet()
        .removeIf(
            e ->
                nowNanos - e.getValue().lastEventNanos > expiryNanos
                    && fleet.targetOf(e.getKey().workerId) == null);
  }

  public List<Counter> read() {
    List<Counter> out = new ArrayList<>(cells.size());
    cells.forEach(
        (k, c) -> {
          Target t = c.target;
          if (t != null) {
            out.add(new Counter(t, k.workerId, c.isl.get(), c.overlap.get()));
          }
        });
    out.sort(
        (a, b) -> {
          int t = a.target().compareTo(b.target());
          return t != 0 ? t : Long.compare(a.workerId(), b.workerId());
        });
    return out;
  }
}
