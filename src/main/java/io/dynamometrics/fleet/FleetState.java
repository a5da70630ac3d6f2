package io.dynamometrics.fleet;

import io.dynamometrics.wire.ForwardPassMetrics;
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
 * The fleet as the poll loop sees it: every worker's last good report and when it came, by stats
 * reply or pushed. Owned by the poll thread alone (pushed values reach it through the {@link
 * Inbox}); the rest of the service sees only the {@link FleetSnapshot}s it makes.
 *
 * <p>A polled worker stays live while it answered one of the last {@code staleness} polls of its
 * endpoint; counting polls (not seconds) means a late or slow poll loop never drops a healthy
 * worker, and a disconnected transport, whose polls get no replies, ages workers out by the same
 * rule. A worker that pushes sends no heartbeat (an idle one is silent): it stays live while its
 * instance key is in the {@link Roster}, and without a roster until it has been silent for the push
 * expiry.
 */
public final class FleetState {
  /** One worker and rank: its latest values, by any intake. */
  private static final class Entry {
    ForwardPassMetrics load; // a stats reply or pushed load, the latest
    ForwardPassMetrics pass; // forward-pass figures (active, waiting requests), or null
    String subject = "";
    long seenAtNanos;
    long statsPoll = -1; // the poll of the last stats reply; -1: never answered one
    long pushedAtNanos; // 0: never pushed
    int intakes;

    Entry(int rank) {
      load = ForwardPassMetrics.none(rank);
    }
  }

  private static final class EndpointState {
    final Map<WorkerKey, Entry> workers = new HashMap<>();
    long polls;
    int registered = -1;
    Set<Long> registeredIds = Set.of();
    PollHealth health = new PollHealth(0, 0, 0, 0);
  }

  private final int staleness;
  private final int maxWorkers;
  private final long pushExpiryNanos;
  private final Map<Target, EndpointState> endpoints = new TreeMap<>();
  private Roster roster;
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
    this(staleness, maxWorkers, java.time.Duration.ofSeconds(60));
  }

  /**
   * @param staleness polls a worker may miss before it leaves the fleet; at least 1
   * @param maxWorkers the most workers one endpoint may have (a guard against runaway cardinality)
   * @param pushExpiry how long a worker that only pushes stays without a value, when no roster says
   *     whether it lives
   */
  public FleetState(int staleness, int maxWorkers, java.time.Duration pushExpiry) {
    if (staleness < 1) {
      throw new IllegalArgumentException("staleness must be at least 1 poll, got " + staleness);
    }
    if (maxWorkers < 1) {
      throw new IllegalArgumentException("maxWorkers must be at least 1, got " + maxWorkers);
    }
    this.staleness = staleness;
    this.maxWorkers = maxWorkers;
    this.pushExpiryNanos = pushExpiry.toNanos();
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
      Entry e = entry(state, new WorkerKey(s.workerId(), s.metrics().dpRank()));
      if (e == null) {
        refused++;
        continue;
      }
      e.load = s.metrics();
      e.subject = s.subject();
      e.seenAtNanos = Math.max(e.seenAtNanos, startNanos);
      e.statsPoll = poll;
      e.intakes |= Intake.STATS.bit();
    }
    // a worker that also pushes is kept by the push rules (expire)
    state.workers.values().removeIf(e -> statsStale(e, poll) && e.pushedAtNanos == 0);
    state.health =
        new PollHealth(
            replies,
            (endNanos - startNanos) / 1e9,
            (endNanos - (replies > 0 ? lastReplyNanos : startNanos)) / 1e9,
            System.currentTimeMillis());
    return refused;
  }

  private boolean statsStale(Entry e, long poll) {
    return e.statsPoll < 0 || poll - e.statsPoll >= staleness;
  }

  /** {@link #entry} for a pushed value: a new one moves the worker from wherever it was. */
  private Entry pushedEntry(EndpointState state, WorkerKey key, Target target) {
    if (!state.workers.containsKey(key)) {
      movePushed(key, target);
    }
    return entry(state, key);
  }

  /** The entry of {@code key}, made when new; {@code null} when the endpoint is full. */
  private Entry entry(EndpointState state, WorkerKey key) {
    Entry e = state.workers.get(key);
    if (e == null) {
      if (state.workers.size() >= maxWorkers) {
        return null;
      }
      e = new Entry(key.dpRank());
      state.workers.put(key, e);
    }
    return e;
  }

  /**
   * A worker's pushed load, shown under {@code target}.
   *
   * @return false when it was turned away because the endpoint already has {@code maxWorkers}
   */
  public boolean pushed(
      Target target, long workerId, ForwardPassMetrics load, Intake intake, long atNanos) {
    EndpointState state = endpoints.computeIfAbsent(target, t -> new EndpointState());
    Entry e = pushedEntry(state, new WorkerKey(workerId, load.dpRank()), target);
    if (e == null) {
      return false;
    }
    e.load = load;
    touch(e, intake, atNanos);
    return true;
  }

  /**
   * One rank's forward-pass figures for a worker, shown under {@code target}: its active and
   * waiting requests where its load carries none.
   *
   * @return false when it was turned away because the endpoint already has {@code maxWorkers}
   */
  public boolean passed(
      Target target,
      long workerId,
      int dpRank,
      long active,
      long waiting,
      Intake intake,
      long atNanos) {
    EndpointState state = endpoints.computeIfAbsent(target, t -> new EndpointState());
    Entry e = pushedEntry(state, new WorkerKey(workerId, dpRank), target);
    if (e == null) {
      return false;
    }
    e.pass =
        ForwardPassMetrics.none(dpRank)
            .with(ForwardPassMetrics.ACTIVE_SLOTS, active)
            .with(ForwardPassMetrics.WAITING, waiting);
    touch(e, intake, atNanos);
    return true;
  }

  /**
   * A pushing worker placed under {@code target} for the first time: what it pushed under another
   * endpoint before (discovery named another of its endpoints first) goes, so that a worker moves
   * and is never copied; values it answered stats with stay.
   */
  private void movePushed(WorkerKey key, Target target) {
    endpoints.forEach(
        (t, other) -> {
          if (!t.equals(target)) {
            Entry e = other.workers.get(key);
            if (e != null && e.statsPoll < 0) {
              other.workers.remove(key);
            }
          }
        });
  }

  private static void touch(Entry e, Intake intake, long atNanos) {
    e.seenAtNanos = Math.max(e.seenAtNanos, atNanos);
    e.pushedAtNanos = Math.max(e.pushedAtNanos, atNanos);
    e.intakes |= intake.bit();
  }

  /**
   * Applies what discovery says now ({@code null}: nothing, or it cannot be read): a pushing worker
   * whose instance key is gone leaves at once; without a roster, one silent for the push expiry
   * leaves. Polled workers are not touched here (see {@link #registered}).
   */
  public void roster(Roster now, long nowNanos) {
    this.roster = now;
    for (EndpointState state : endpoints.values()) {
      long poll = state.polls;
      state
          .workers
          .entrySet()
          .removeIf(
              w -> {
                Entry e = w.getValue();
                if (e.pushedAtNanos == 0 || !statsStale(e, poll)) {
                  return false;
                }
                return now != null
                    ? !now.knows(w.getKey().workerId())
                    : nowNanos - e.pushedAtNanos > pushExpiryNanos;
              });
    }
  }

  /**
   * Moves each worker that only pushes to the endpoint {@code placement} names for it now
   * (discovery may name its preferred endpoint after its first message was placed); {@code
   * placement} answers {@code null} to leave a worker where it is.
   */
  public void follow(java.util.function.LongFunction<Target> placement) {
    record Move(Target from, WorkerKey key, Entry entry, Target to) {}
    List<Move> moves = new ArrayList<>();
    endpoints.forEach(
        (t, state) ->
            state.workers.forEach(
                (k, e) -> {
                  if (e.statsPoll < 0) {
                    Target to = placement.apply(k.workerId());
                    if (to != null && !to.equals(t)) {
                      moves.add(new Move(t, k, e, to));
                    }
                  }
                }));
    for (Move m : moves) {
      endpoints.get(m.from()).workers.remove(m.key());
      endpoints
          .computeIfAbsent(m.to(), x -> new EndpointState())
          .workers
          .putIfAbsent(m.key(), m.entry());
    }
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
          if (e.statsPoll == state.polls) {
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

  /**
   * Forgets endpoints that are neither polled nor hold a pushing worker (discovery no longer finds
   * them).
   */
  public void retain(Collection<Target> polled) {
    endpoints
        .entrySet()
        .removeIf(
            e ->
                !polled.contains(e.getKey())
                    && e.getValue().workers.values().stream().noneMatch(w -> w.pushedAtNanos != 0));
  }

  /** The fleet now, for readers. */
  public FleetSnapshot snapshot(long nowNanos, boolean connected) {
    List<EndpointFleet> out = new ArrayList<>(endpoints.size());
    Map<Long, Target> index = new HashMap<>();
    // a worker's pushed copy under another endpoint than the one it answers stats on (placed before
    // discovery named that one): hidden, its intake added to the worker's own
    Map<Long, Integer> pushedElsewhere = endpoints.size() > 1 ? pushedElsewhere() : Map.of();
    for (Map.Entry<Target, EndpointState> e : endpoints.entrySet()) {
      List<Worker> workers = new ArrayList<>(e.getValue().workers.size());
      for (Map.Entry<WorkerKey, Entry> w : e.getValue().workers.entrySet()) {
        Entry entry = w.getValue();
        long id = w.getKey().workerId();
        Integer elsewhere = pushedElsewhere.get(id);
        int intakes = entry.intakes;
        if (elsewhere != null) {
          if (entry.statsPoll < 0) {
            continue;
          }
          intakes |= elsewhere;
        }
        index.putIfAbsent(id, e.getKey());
        double age = Math.max(0, (nowNanos - entry.seenAtNanos) / 1e9);
        workers.add(new Worker(w.getKey(), entry.subject, merged(w.getKey(), entry), age, intakes));
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

  /**
   * One worker is one set of series, whichever intakes feed it: the intakes of the pushed-only
   * copies of every worker that also answers stats (a 0.4.x worker whose first push was placed
   * before discovery named its stats endpoint), by worker id. A worker that answers stats on
   * several endpoints is shown on each, as each endpoint carries its own figures.
   */
  private Map<Long, Integer> pushedElsewhere() {
    Set<Long> answersStats = new HashSet<>();
    for (EndpointState state : endpoints.values()) {
      state.workers.forEach(
          (k, e) -> {
            if (e.statsPoll >= 0) {
              answersStats.add(k.workerId());
            }
          });
    }
    Map<Long, Integer> out = new HashMap<>();
    for (EndpointState state : endpoints.values()) {
      state.workers.forEach(
          (k, e) -> {
            if (e.statsPoll < 0 && answersStats.contains(k.workerId())) {
              out.merge(k.workerId(), e.intakes, (a, b) -> a | b);
            }
          });
    }
    return out;
  }

  /**
   * What {@code entry} sent, with forward-pass figures and its model card's capacity where its load
   * carries none (dynamo-events.md, section 5). A stats reply, which carries every field, is shown
   * as it came.
   */
  private ForwardPassMetrics merged(WorkerKey key, Entry entry) {
    ForwardPassMetrics m = entry.load;
    if (m.complete()) {
      return m;
    }
    if (entry.pass != null) {
      m = fill(m, entry.pass, ForwardPassMetrics.ACTIVE_SLOTS);
      m = fill(m, entry.pass, ForwardPassMetrics.WAITING);
    }
    Roster r = roster;
    Roster.Member member = r == null ? null : r.workers().get(key.workerId());
    Roster.Capacity c = member == null ? null : member.capacity();
    if (c != null) {
      if (!m.has(ForwardPassMetrics.KV_TOTAL) && c.totalKvBlocks() >= 0) {
        m = m.with(ForwardPassMetrics.KV_TOTAL, c.totalKvBlocks());
      }
      if (!m.has(ForwardPassMetrics.TOTAL_SLOTS) && c.maxNumSeqs() >= 0) {
        m = m.with(ForwardPassMetrics.TOTAL_SLOTS, c.maxNumSeqs());
      }
    }
    return m;
  }

  private static ForwardPassMetrics fill(ForwardPassMetrics m, ForwardPassMetrics from, int field) {
    return m.has(field) || !from.has(field) ? m : m.with(field, (long) from.value(field));
  }
}
