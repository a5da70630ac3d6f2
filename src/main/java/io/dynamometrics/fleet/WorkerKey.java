package io.dynamometrics.fleet;

import io.dynamometrics.wire.ForwardPassMetrics;

/** A worker is its lease id, and its data-parallel rank where it reports one. */
public record WorkerKey(long workerId, int dpRank) implements Comparable<WorkerKey> {
  public boolean hasRank() {
    return dpRank != ForwardPassMetrics.NO_RANK;
  }

  @Override
  public int compareTo(WorkerKey o) {
    int c = Long.compare(workerId, o.workerId);
    return c != 0 ? c : Integer.compare(dpRank, o.dpRank);
  }
}
