package io.dynamometrics.fleet;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Who discovery (etcd) says is alive in one namespace: the workers by instance id, where each one
 * serves, what capacity its model card states, and which event publisher belongs to which worker.
 * Immutable; read anew every poll. A worker lives while its instance key lives.
 *
 * @param workers every registered worker by id (routers and frontends that register as {@code
 *     kv-router} are left out)
 * @param publishers the worker id of every event publisher, linked through the lease of its channel
 *     key
 * @param polled the endpoint each worker registered under the layouts of releases that answer
 *     {@code $SRV.STATS} ({@code instances/}, {@code {ns}/components/}) is shown under (its {@code
 *     load_metrics}, not its {@code generate}): polled even before {@code $SRV.INFO} names it
 * @param zmq every event channel of a worker that publishes on the ZMQ event plane (1.3 on)
 */
public record Roster(
    Map<Long, Member> workers, Map<Long, Long> publishers, Set<Target> polled, List<Channel> zmq) {

  /** A roster of workers that publish nothing on ZMQ. */
  public Roster(Map<Long, Member> workers, Map<Long, Long> publishers, Set<Target> polled) {
    this(workers, publishers, polled, List.of());
  }

  /**
   * One ZMQ event channel: a worker's PUB socket for one topic.
   *
   * @param endpoint the address it advertises, e.g. {@code tcp://10.0.0.7:41445}
   * @param topic {@code kv_metrics}, {@code forward-pass-metrics}, ...
   * @param publisherId the id its messages carry (the hex suffix of its key)
   * @param workerId the worker whose lease it sits on
   * @param scope the endpoint the channel's key names (1.4 on), or {@code null}
   */
  public record Channel(
      String endpoint, String topic, long publisherId, long workerId, Target scope) {}

  /**
   * One worker.
   *
   * @param endpoints every endpoint it registered, the one its load is shown under first ({@code
   *     load_metrics}, then {@code generate}, then by name)
   * @param capacity from its model card, or {@code null} when it states none
   */
  public record Member(long id, List<Target> endpoints, Capacity capacity) {}

  /**
   * What a model card states: {@code -1} where it states nothing.
   *
   * @param totalKvBlocks {@code runtime_config.total_kv_blocks}
   * @param maxNumSeqs {@code runtime_config.max_num_seqs}
   */
  public record Capacity(long totalKvBlocks, long maxNumSeqs) {}

  /**
   * The order of the endpoints a worker's load may be shown under: the stats endpoint ({@code
   * load_metrics}) of releases that have one, then {@code generate}, then by name.
   */
  public static final java.util.Comparator<Target> SHOWN_UNDER =
      java.util.Comparator.comparingInt(
              (Target t) ->
                  switch (t.endpoint()) {
                    case "load_metrics" -> 0;
                    case "generate" -> 1;
                    default -> 2;
                  })
          .thenComparing(java.util.Comparator.naturalOrder());

  public boolean knows(long workerId) {
    return workers.containsKey(workerId);
  }

  /**
   * The endpoint {@code workerId}'s load is shown under: the first of its endpoints that {@code
   * accepts} takes, or {@code null}.
   */
  public Target target(long workerId, Predicate<Target> accepts) {
    Member m = workers.get(workerId);
    if (m == null) {
      return null;
    }
    for (Target t : m.endpoints()) {
      if (accepts.test(t)) {
        return t;
      }
    }
    return null;
  }

  /**
   * The registered workers by the endpoint their load is shown under, among the endpoints {@code
   * accepts} takes.
   */
  public Map<Target, Set<Long>> registered(Predicate<Target> accepts) {
    Map<Target, Set<Long>> out = new java.util.HashMap<>();
    for (Member m : workers.values()) {
      Target t = target(m.id(), accepts);
      if (t != null) {
        out.computeIfAbsent(t, k -> new java.util.HashSet<>()).add(m.id());
      }
    }
    return out;
  }

  /** The worker that publishes as {@code publisherId}, or {@code null} when none is known. */
  public Long workerOf(long publisherId) {
    Long w = publishers.get(publisherId);
    return w != null && workers.containsKey(w) ? w : null;
  }
}
