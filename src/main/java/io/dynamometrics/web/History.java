package io.dynamometrics.web;

import io.dynamometrics.fleet.Aggregates;
import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Target;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The last {@code retention} of each endpoint's aggregates, one point per poll, in memory: a ring
 * buffer per component/endpoint for the dashboard's charts. Written by the poll thread, read by
 * HTTP threads.
 */
public final class History implements Consumer<FleetSnapshot> {
  /**
   * One poll's aggregates. Ratios are {@code NaN} when unknown (no workers, no events in the
   * window).
   *
   * @param hitRatio overlap / isl blocks from hit-rate events over the last {@link #HIT_WINDOW}
   */
  public record Point(
      long timeMillis,
      int workers,
      double kvUsage,
      double slotsUsage,
      double waiting,
      double loadAvg,
      double loadStd,
      double imbalance,
      double hitRatio) {}

  /** The window of the KV hit ratio computed from the event counters. */
  public static final Duration HIT_WINDOW = Duration.ofMinutes(1);

  private record Totals(long timeMillis, long isl, long overlap) {}

  private final HitRates hitRates;
  private final long retentionMillis;
  private final Map<Target, ArrayDeque<Point>> points = new ConcurrentHashMap<>();
  private final Map<Target, ArrayDeque<Totals>> totals = new HashMap<>(); // poll thread only

  public History(HitRates hitRates, Duration retention) {
    this.hitRates = hitRates;
    this.retentionMillis = retention.toMillis();
  }

  @Override
  public void accept(FleetSnapshot snapshot) {
    long now = snapshot.takenAtMillis();
    Map<Target, long[]> sums = new HashMap<>();
    for (HitRates.Counter c : hitRates.read()) {
      long[] s = sums.computeIfAbsent(c.target(), t -> new long[2]);
      s[0] += c.islBlocks();
      s[1] += c.overlapBlocks();
    }
    for (EndpointFleet e : snapshot.endpoints()) {
      long[] s = sums.getOrDefault(e.target(), new long[2]);
      ArrayDeque<Totals> window = totals.computeIfAbsent(e.target(), t -> new ArrayDeque<>());
      window.addLast(new Totals(now, s[0], s[1]));
      while (window.size() > 1 && now - window.peekFirst().timeMillis() > HIT_WINDOW.toMillis()) {
        window.pollFirst();
      }
      Totals first = window.peekFirst();
      long isl = s[0] - first.isl();
      double hit = isl > 0 ? (double) (s[1] - first.overlap()) / isl : Double.NaN;
      Aggregates a = e.aggregates();
      Point p =
          a == null
              ? new Point(
                  now,
                  0,
                  Double.NaN,
                  Double.NaN,
                  Double.NaN,
                  Double.NaN,
                  Double.NaN,
                  Double.NaN,
                  hit)
              : new Point(
                  now,
                  a.workers(),
                  a.kvUsageRatio(),
                  a.slotsUsageRatio(),
                  a.requestsWaiting(),
                  a.loadAvg(),
                  a.loadStd(),
                  a.imbalanceRatio(),
                  hit);
      ArrayDeque<Point> ring = points.computeIfAbsent(e.target(), t -> new ArrayDeque<>());
      synchronized (ring) {
        ring.addLast(p);
        while (now - ring.peekFirst().timeMillis() > retentionMillis) {
          ring.pollFirst();
        }
      }
    }
    totals.keySet().retainAll(snapshot.endpoints().stream().map(EndpointFleet::target).toList());
  }

  /** Points of {@code target} from the last {@code window}, oldest first; empty when unknown. */
  public List<Point> read(Target target, Duration window, long nowMillis) {
    ArrayDeque<Point> ring = points.get(target);
    if (ring == null) {
      return List.of();
    }
    List<Point> out = new ArrayList<>();
    synchronized (ring) {
      for (Point p : ring) {
        if (nowMillis - p.timeMillis() <= window.toMillis()) {
          out.add(p);
        }
      }
    }
    return out;
  }

  /** The latest point of {@code target}, or {@code null}. */
  public Point latest(Target target) {
    ArrayDeque<Point> ring = points.get(target);
    if (ring == null) {
      return null;
    }
    synchronized (ring) {
      return ring.peekLast();
    }
  }

  public Duration retention() {
    return Duration.ofMillis(retentionMillis);
  }
}
