package io.dynamometrics.fleet;

import io.dynamometrics.wire.StatsEndpoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The fleet as the poll loop sees it: every worker's last good report and when it came. Owned by
 * the poll thread alone; the rest of the service sees only the {@link FleetSnapshot}s it makes.
 *
 * <p>A worker stays live while it answered one of the last {@code staleness} polls of its endpoint;
 * counting polls (not seconds) means a late or slow poll loop never drops a healthy worker, and a
 * disconnected transport, whose polls get no replies, ages workers out by the same rule.
 */
public final class FleetState {
  private record Entry(StatsEndpoint stats, long seenAtNanos, long seenAtPoll) {}

  private static final class EndpointState {
    final Map<WorkerKey, Entry> workers = new HashMap<>();
    long polls;
    int registered = -1;
    Set<Long> registeredIds = Set.of();
    PollHealth health = new PollHealth(0, 0, 0, 0);
  }

  private final int staleness;
  private final int maxWorkers;
  private final Map<Target, EndpointState> endpoints = new TreeMap<>();
  private long cycles;

  /**
   * @param staleness polls a worker may miss before it leaves the fleet; at least 1
   */
  public FleetState(int staleness) {
    this(staleness, Integer.MAX_VALUE);
  }

  /**
   * @param staleness polls a worker may miss before it leaves the fleet; at least 1
   * @param maxWorkers the most workers one endpoint may have (a guard against runaway cardinality)
   */
  public FleetState(int staleness, int maxWorkers) {
    if (staleness < 1) {
      throw new IllegalArgumentException("staleness must be at least 1 poll, got " + staleness);
    }
    if (maxWorkers < 1) {
      throw new IllegalArgumentException("maxWorkers must be at least 1, got " + maxWorkers);
    }
    this.staleness = staleness;
    this.maxWorkers = maxWorkers;
  }

  /**
   * Records one gather of {@code target}: replies in {@code stats}, requested at {@code
   * startNanos}, the last one received at {@code lastReplyNanos} (0: none), finished at {@code
   * endNanos}.
   *
   * @return how many workers were turned away because the endpoint already has {@code maxWorkers}
   */
  public int record(
      Target target,
      List<StatsEndpoint> stats,
      int replies,
      long startNanos,
      long lastReplyNanos,
      long endNanos) {
    EndpointState state = endpoints.computeIfAbsent(target, t -> new EndpointState());
    long poll = ++state.polls;
    int refused = 0;
    for (StatsEndpoint s : stats) {
      WorkerKey key = new WorkerKey(s.workerId(), s.metrics().dpRank());
      if (state.workers.size() >= maxWorkers && !state.workers.containsKey(key)) {
        refused++;
        continue;
      }
      state.workers.put(key, new Entry(s, startNanos, poll));
    }
    state.workers.values().removeIf(e -> poll - e.seenAtPoll >= staleness);
    state.health =
        new PollHealth(
            replies,
            (endNanos - startNanos) / 1e9,
            (endNanos - (replies > 0 ? lastReplyNanos : startNanos)) / 1e9,
            System.currentTimeMillis());
    return refused;
  }

  /**
   * The worker ids of {@code target} that answered its latest poll: the next gather waits for them.
   */
  public Set<Long> answeredLastPoll(Target target) {
    EndpointState state = endpoints.get(target);
    if (state == null) {
      return Set.of();
    }
    Set<Long> ids = new HashSet<>();
    state.workers.forEach(
        (k, e) -> {
          if (e.seenAtPoll == state.polls) {
            ids.add(k.workerId());
          }
        });
    return ids;
  }

  /**
   * What etcd says is registered under {@code target}: a worker whose registration was deleted
   * leaves the fleet now, not after the staleness window. Workers that never registered (static or
   * foreign ones) are kept by the staleness rule alone.
   */
  public void registered(Target target, Set<Long> leaseIds) {
    EndpointState state = endpoints.computeIfAbsent(target, t -> new EndpointState());
    Set<Long> deregistered = new HashSet<>(state.registeredIds);
    deregistered.removeAll(leaseIds);
    state.workers.keySet().removeIf(k -> deregistered.contains(k.workerId()));
    state.registered = leaseIds.size();
    state.registeredIds = Set.copyOf(leaseIds);
  }

  /** Forgets endpoints that are no longer polled (discovery no longer finds them). */
  public void retain(Collection<Target> polled) {
    endpoints.keySet().retainAll(polled);
  }

  /** The fleet now, for readers. */
  public FleetSnapshot snapshot(long nowNanos, boolean connected) {
    List<EndpointFleet> out = new ArrayList<>(endpoints.size());
    Map<Long, Target> index = new HashMap<>();
    for (Map.Entry<Target, EndpointState> e : endpoints.entrySet()) {
      List<Worker> workers = new ArrayList<>(e.getValue().workers.size());
      for (Map.Entry<WorkerKey, Entry> w : e.getValue().workers.entrySet()) {
        Entry entry = w.getValue();
        double age = Math.max(0, (nowNanos - entry.seenAtNanos) / 1e9);
        workers.add(new Worker(w.getKey(), entry.stats.subject(), entry.stats.metrics(), age));
        index.putIfAbsent(w.getKey().workerId(), e.getKey());
      }
      workers.sort((a, b) -> a.key().compareTo(b.key()));
      Aggregates agg = Aggregates.of(workers.stream().map(Worker::metrics).toList());
      out.add(
          new EndpointFleet(
              e.getKey(),
              Collections.unmodifiableList(workers),
              agg,
              e.getValue().health,
              e.getValue().registered));
    }
    // the lists and the map are new and go nowhere else: read-only views, not copies of 10,000
    return new FleetSnapshot(
        ++cycles,
        System.currentTimeMillis(),
        Collections.unmodifiableList(out),
        connected,
        Collections.unmodifiableMap(index));
  }
}
