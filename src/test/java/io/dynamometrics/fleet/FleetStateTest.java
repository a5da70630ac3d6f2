package io.dynamometrics.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.StatsEndpoint;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FleetStateTest {
  private static final Target T = new Target("dynamo", "MyComponent", "my_endpoint");

  private static StatsEndpoint worker(long id, int rank, long kv) {
    return new StatsEndpoint(
        "x.my_endpoint-" + Long.toHexString(id),
        id,
        new ForwardPassMetrics(kv / 10, 10, kv, 100, 1, kv / 100.0, 0.5, rank));
  }

  @Test
  void aggregatesUsePopulationStandardDeviation() {
    FleetState state = new FleetState(3);
    state.record(T, List.of(worker(161, -1, 10), worker(195, -1, 30)), 3, 0, 900_000, 1_000_000);
    Aggregates a = state.snapshot(1_000_000, true).endpoint(T).aggregates();
    assertThat(a.loadAvg()).isEqualTo(20);
    assertThat(a.loadStd()).isEqualTo(10);
    assertThat(a.loadMin()).isEqualTo(10);
    assertThat(a.loadMax()).isEqualTo(30);
    assertThat(a.imbalanceRatio()).isEqualTo(1.5);
    assertThat(a.kvUsageRatio()).isEqualTo(0.2);
    assertThat(a.slotsUsageRatio()).isCloseTo(0.2, within(1e-12));
    assertThat(a.requestsWaiting()).isEqualTo(2);
    assertThat(state.snapshot(1_000_000, true).endpoint(T).poll())
        .as("took 1 ms, of which 0.1 ms after the last reply")
        .extracting(PollHealth::durationSeconds, PollHealth::lingerSeconds)
        .containsExactly(0.001, 0.0001);
  }

  @Test
  void dataParallelRanksAreSeparateWorkers() {
    FleetState state = new FleetState(3);
    state.record(T, List.of(worker(31, 0, 300), worker(31, 1, 500)), 1, 0, 1, 1);
    EndpointFleet e = state.snapshot(1, true).endpoint(T);
    assertThat(e.workers())
        .extracting(w -> w.key())
        .containsExactly(new WorkerKey(31, 0), new WorkerKey(31, 1));
    assertThat(e.aggregates().loadAvg()).isEqualTo(400);
    assertThat(e.aggregates().loadStd()).isEqualTo(100);
  }

  @Test
  void noWorkersMeansNoAggregatesNotNaN() {
    FleetState state = new FleetState(3);
    state.record(T, List.of(), 0, 0, 1, 1);
    EndpointFleet e = state.snapshot(1, true).endpoint(T);
    assertThat(e.workers()).isEmpty();
    assertThat(e.aggregates()).isNull();
  }

  @Test
  void idleFleetHasNoImbalanceRatio() {
    FleetState state = new FleetState(3);
    state.record(T, List.of(worker(1, -1, 0), worker(2, -1, 0)), 2, 0, 1, 1);
    assertThat(state.snapshot(1, true).endpoint(T).aggregates().imbalanceRatio()).isNaN();
  }

  @Test
  void dropsWorkersThatStopAnsweringAfterTheStalenessWindow() {
    FleetState state = new FleetState(3);
    state.record(T, List.of(worker(1, -1, 10), worker(2, -1, 20)), 2, 0, 1, 1);
    for (int poll = 1; poll <= 2; poll++) {
      state.record(
          T,
          List.of(worker(1, -1, 10)),
          1,
          poll * 1_000_000_000L,
          poll * 1_000_000_000L + 1,
          poll * 1_000_000_000L + 1);
      assertThat(state.snapshot(poll * 1_000_000_000L + 1, true).endpoint(T).workers())
          .as("after %d missed", poll)
          .hasSize(2);
    }
    state.record(T, List.of(worker(1, -1, 10)), 1, 3_000_000_000L, 3_000_000_001L, 3_000_000_001L);
    FleetSnapshot s = state.snapshot(3_000_000_001L, true);
    assertThat(s.endpoint(T).workers()).extracting(w -> w.key().workerId()).containsExactly(1L);
    assertThat(s.endpoint(T).aggregates().loadAvg()).isEqualTo(10);
    assertThat(s.targetOf(2)).isNull();
  }

  @Test
  void ageCountsFromTheLastGoodReply() {
    FleetState state = new FleetState(3);
    state.record(T, List.of(worker(1, -1, 10)), 1, 0, 1, 1);
    state.record(T, List.of(), 0, 1_000_000_000L, 1_000_000_001L, 1_000_000_001L);
    assertThat(state.snapshot(1_500_000_000L, true).endpoint(T).workers().get(0).ageSeconds())
        .isEqualTo(1.5);
  }

  @Test
  void theNextGatherWaitsForWhoAnsweredLastTime() {
    FleetState state = new FleetState(3);
    state.record(T, List.of(worker(1, -1, 10), worker(2, -1, 10)), 2, 0, 1, 1);
    state.record(T, List.of(worker(1, -1, 10)), 1, 2, 3, 3);
    assertThat(state.answeredLastPoll(T)).containsExactly(1L);
  }

  @Test
  void deregisteredWorkersLeaveAtOnceButUnregisteredOnesFollowStaleness() {
    FleetState state = new FleetState(1000);
    state.registered(T, Set.of(1L, 2L));
    state.record(T, List.of(worker(1, -1, 10), worker(2, -1, 20), worker(9, -1, 5)), 3, 0, 1, 1);
    state.registered(T, Set.of(1L, 3L));
    EndpointFleet e = state.snapshot(1, true).endpoint(T);
    assertThat(e.workers()).extracting(w -> w.key().workerId()).containsExactly(1L, 9L);
    assertThat(e.registered()).isEqualTo(2);
  }

  @Test
  void theCardinalityGuardKeepsKnownWorkersAndTurnsAwayNewOnes() {
    FleetState state = new FleetState(3, 2);
    assertThat(
            state.record(
                T, List.of(worker(1, -1, 10), worker(2, -1, 20), worker(3, -1, 30)), 3, 0, 1, 1))
        .isEqualTo(1);
    assertThat(state.record(T, List.of(worker(2, -1, 25), worker(4, -1, 40)), 2, 2, 3, 3))
        .isEqualTo(1);
    EndpointFleet e = state.snapshot(3, true).endpoint(T);
    assertThat(e.workers())
        .extracting(w -> w.key().workerId() + ":" + w.metrics().kvActiveBlocks())
        .containsExactly("1:10", "2:25");
  }
}
