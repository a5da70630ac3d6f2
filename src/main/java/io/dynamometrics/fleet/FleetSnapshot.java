package io.dynamometrics.fleet;

import java.util.List;
import java.util.Map;

/**
 * Everything known about the fleet after one poll cycle. Immutable: readers (scrapes, pushes, the
 * web page, l2c) share it without locks and never see two polls mixed.
 *
 * @param sequence poll cycles completed; 0 for the empty snapshot before the first poll
 * @param takenAtMillis wall-clock time the cycle finished
 * @param endpoints sorted by target
 * @param transportConnected whether the transport (NATS) was connected when the cycle ended
 * @param workerIndex the endpoint of every live worker id (derived from {@code endpoints})
 */
public record FleetSnapshot(
    long sequence,
    long takenAtMillis,
    List<EndpointFleet> endpoints,
    boolean transportConnected,
    Map<Long, Target> workerIndex) {

  public static final FleetSnapshot EMPTY = new FleetSnapshot(0, 0, List.of(), false, Map.of());

  /** The endpoint whose live workers include {@code workerId}, or {@code null}. */
  public Target targetOf(long workerId) {
    return workerIndex.get(workerId);
  }

  /** The fleet of {@code target}, or {@code null} when it is not aggregated. */
  public EndpointFleet endpoint(Target target) {
    for (EndpointFleet e : endpoints) {
      if (e.target().equals(target)) {
        return e;
      }
    }
    return null;
  }
}
