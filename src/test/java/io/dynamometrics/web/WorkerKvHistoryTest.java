package io.dynamometrics.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.PollHealth;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.fleet.WorkerKey;
import io.dynamometrics.wire.ForwardPassMetrics;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerKvHistoryTest {
  private static final Target T = new Target("dynamo", "VllmWorker", "load_metrics");
  private static final long BUCKET = WorkerKvHistory.BUCKET_MILLIS;
  private static final long START = 1_000 * BUCKET; // a bucket boundary

  private static Worker worker(long id, long activeBlocks) {
    return new Worker(
        new WorkerKey(id, -1),
        "s",
        new ForwardPassMetrics(1, 8, activeBlocks, 100, 0, 0, 0, -1),
        0);
  }

  private static FleetSnapshot at(long millis, Worker... workers) {
    return new FleetSnapshot(
        1,
        millis,
        List.of(new EndpointFleet(T, List.of(workers), null, new PollHealth(1, 0, 0, millis), -1)),
        true,
        Map.of());
  }

  @Test
  void eachBucketHoldsTheHighestUsageAndGapsAreEmpty() {
    WorkerKvHistory h = new WorkerKvHistory();
    h.accept(at(START, worker(7, 30)));
    h.accept(at(START + 1000, worker(7, 80))); // same bucket: the highest wins
    h.accept(at(START + 1000 + 2 * BUCKET, worker(7, 10))); // one bucket skipped
    int[] cells = h.read(T, START + 2 * BUCKET + 1000).get(new WorkerKey(7, -1));
    assertThat(cells).hasSize(WorkerKvHistory.BUCKETS);
    int n = cells.length;
    assertThat(Arrays.copyOfRange(cells, n - 3, n)).containsExactly(80, -1, 10);
    assertThat(Arrays.copyOfRange(cells, 0, n - 3)).containsOnly(-1);
  }

  @Test
  void aWorkerThatLeavesTakesItsHistoryAlong() {
    WorkerKvHistory h = new WorkerKvHistory();
    h.accept(at(START, worker(7, 30), worker(8, 50)));
    h.accept(at(START + BUCKET, worker(8, 60)));
    assertThat(h.read(T, START + BUCKET)).containsOnlyKeys(new WorkerKey(8, -1));
  }

  @Test
  void historyOlderThanFifteenMinutesIsGone() {
    WorkerKvHistory h = new WorkerKvHistory();
    h.accept(at(START, worker(7, 30)));
    h.accept(at(START + WorkerKvHistory.BUCKETS * BUCKET, worker(7, 40)));
    int[] cells = h.read(T, START + WorkerKvHistory.BUCKETS * BUCKET).get(new WorkerKey(7, -1));
    assertThat(cells[cells.length - 1]).isEqualTo(40);
    assertThat(Arrays.copyOfRange(cells, 0, cells.length - 1)).containsOnly(-1);
  }
}
