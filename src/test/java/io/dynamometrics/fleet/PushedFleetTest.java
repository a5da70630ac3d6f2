package io.dynamometrics.fleet;

import static io.dynamometrics.wire.ForwardPassMetrics.ACTIVE_SLOTS;
import static io.dynamometrics.wire.ForwardPassMetrics.DECODE_BLOCKS;
import static io.dynamometrics.wire.ForwardPassMetrics.KV_ACTIVE;
import static io.dynamometrics.wire.ForwardPassMetrics.KV_TOTAL;
import static io.dynamometrics.wire.ForwardPassMetrics.TOTAL_SLOTS;
import static io.dynamometrics.wire.ForwardPassMetrics.WAITING;
import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.StatsEndpoint;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fleet state fed by pushed load: liveness, merging, and what is absent. */
class PushedFleetTest {
  private static final Target GEN = new Target("dyn", "backend", "generate");
  private static final Target LOAD = new Target("dyn", "backend", "load_metrics");
  private static final long S = 1_000_000_000L;

  private static ForwardPassMetrics activeLoad(int rank, long used, long decode) {
    return ForwardPassMetrics.none(rank).with(KV_ACTIVE, used).with(DECODE_BLOCKS, decode);
  }

  private static Roster roster(Map<Long, Roster.Capacity> workers, Map<Long, Long> publishers) {
    Map<Long, Roster.Member> members = new java.util.HashMap<>();
    workers.forEach((id, c) -> members.put(id, new Roster.Member(id, List.of(GEN), c)));
    return new Roster(Map.copyOf(members), publishers, Set.of());
  }

  private static EndpointFleet fleet(FleetState s, Target t, long now) {
    return s.snapshot(now, true).endpoint(t);
  }

  @Test
  void fieldsAReleaseDoesNotSendAreAbsentAndAggregatesUseWhatIsPresent() {
    FleetState s = new FleetState(3, 100, Duration.ofSeconds(60));
    s.pushed(GEN, 1, activeLoad(0, 20, 5), Intake.NATS, S);
    s.pushed(GEN, 2, activeLoad(0, 40, 7), Intake.NATS, S);
    EndpointFleet e = fleet(s, GEN, S);
    Worker w = e.workers().get(0);
    assertThat(w.metrics().value(KV_ACTIVE)).isEqualTo(20);
    assertThat(w.metrics().value(DECODE_BLOCKS)).isEqualTo(5);
    assertThat(w.metrics().value(KV_TOTAL)).isNaN();
    assertThat(w.metrics().value(WAITING)).isNaN();
    assertThat(w.intake()).isEqualTo("nats");
    Aggregates a = e.aggregates();
    assertThat(a.loadAvg()).isEqualTo(30);
    assertThat(a.loadMax()).isEqualTo(40);
    assertThat(a.kvUsageRatio()).as("no worker sent its total").isNaN();
    assertThat(a.slotsUsageRatio()).isNaN();
    assertThat(a.requestsWaiting()).isNaN();
  }

  @Test
  void modelCardsStateCapacityAndForwardPassMetricsFeedRequests() {
    FleetState s = new FleetState(3, 100, Duration.ofSeconds(60));
    s.roster(roster(Map.of(1L, new Roster.Capacity(1000, 64)), Map.of()), S);
    s.pushed(GEN, 1, activeLoad(0, 250, 5), Intake.NATS, S);
    s.passed(GEN, 1, 0, 4, 12, Intake.NATS, S);
    ForwardPassMetrics m = fleet(s, GEN, S).workers().get(0).metrics();
    assertThat(m.value(KV_TOTAL)).isEqualTo(1000);
    assertThat(m.value(TOTAL_SLOTS)).isEqualTo(64);
    assertThat(m.value(ACTIVE_SLOTS)).isEqualTo(4);
    assertThat(m.value(WAITING)).isEqualTo(12);
    Aggregates a = fleet(s, GEN, S).aggregates();
    assertThat(a.kvUsageRatio()).isEqualTo(0.25);
    assertThat(a.slotsUsageRatio()).isEqualTo(4 / 64.0);
    assertThat(a.requestsWaiting()).isEqualTo(12);
  }

  @Test
  void aPushingWorkerLivesExactlyAsLongAsItsInstanceKey() {
    FleetState s = new FleetState(3, 100, Duration.ofSeconds(60));
    s.roster(roster(Map.of(1L, new Roster.Capacity(-1, -1)), Map.of()), S);
    s.pushed(GEN, 1, activeLoad(0, 20, 5), Intake.NATS, S);
    // silent for an hour: no heartbeat in Dynamo, the key still lives, so does the worker
    s.roster(roster(Map.of(1L, new Roster.Capacity(-1, -1)), Map.of()), 3600 * S);
    assertThat(fleet(s, GEN, 3600 * S).workers()).hasSize(1);
    // the key is gone (a clean exit, or a crash's lease expired): the worker leaves at once
    s.roster(roster(Map.of(), Map.of()), 3601 * S);
    assertThat(fleet(s, GEN, 3601 * S).workers()).isEmpty();
  }

  @Test
  void withoutARosterAPushingWorkerLeavesAfterThePushedLoadExpiry() {
    FleetState s = new FleetState(3, 100, Duration.ofSeconds(60));
    s.pushed(GEN, 1, activeLoad(0, 20, 5), Intake.NATS, S);
    s.roster(null, 60 * S);
    assertThat(fleet(s, GEN, 60 * S).workers()).hasSize(1);
    s.roster(null, 62 * S);
    assertThat(fleet(s, GEN, 62 * S).workers()).isEmpty();
  }

  @Test
  void aWorkerThatAnswersStatsAndPushesIsOneWorkerWithBothIntakes() {
    FleetState s = new FleetState(3, 100, Duration.ofSeconds(60));
    ForwardPassMetrics full = new ForwardPassMetrics(3, 8, 40, 100, 2, 0.4, 0.25, -1, true);
    s.record(LOAD, List.of(new StatsEndpoint("dyn_backend.load_metrics-1", 1, full)), 1, 0, 1, 1);
    s.pushed(GEN, 1, full, Intake.NATS, S); // placed before discovery named its stats endpoint
    FleetSnapshot snap = s.snapshot(S, true);
    assertThat(snap.endpoint(LOAD).workers()).hasSize(1);
    assertThat(snap.endpoint(LOAD).workers().get(0).intake()).isEqualTo("stats+nats");
    assertThat(snap.endpoint(GEN).workers()).isEmpty();
    assertThat(snap.targetOf(1)).isEqualTo(LOAD);
  }

  @Test
  void aWorkerAnsweringStatsOnTwoEndpointsIsShownOnEachWithItsOwnFigures() {
    FleetState s = new FleetState(3, 100, Duration.ofSeconds(60));
    Target other = new Target("dyn", "backend", "load_metrics2");
    s.record(LOAD, List.of(new StatsEndpoint("s.load_metrics-1", 1, stats(61))), 1, 0, 1, 1);
    s.record(other, List.of(new StatsEndpoint("s.load_metrics2-1", 1, stats(99))), 1, 0, 1, 1);
    FleetSnapshot snap = s.snapshot(S, true);
    assertThat(snap.endpoint(LOAD).workers().get(0).metrics().kvActiveBlocks()).isEqualTo(61);
    assertThat(snap.endpoint(other).workers().get(0).metrics().kvActiveBlocks()).isEqualTo(99);
  }

  private static ForwardPassMetrics stats(long kv) {
    return new ForwardPassMetrics(3, 8, kv, 100, 2, 0.4, 0.25, -1, true);
  }

  @Test
  void aPushingWorkerPlacedUnderAnotherEndpointMovesThere() {
    FleetState s = new FleetState(3, 100, Duration.ofSeconds(60));
    s.pushed(GEN, 1, activeLoad(0, 20, 5), Intake.NATS, S); // discovery knew only "generate"
    s.pushed(LOAD, 1, activeLoad(0, 21, 5), Intake.NATS, 2 * S);
    s.retain(List.of());
    FleetSnapshot snap = s.snapshot(2 * S, true);
    assertThat(snap.endpoint(GEN)).as("no endpoint left behind").isNull();
    assertThat(snap.endpoint(LOAD).workers()).hasSize(1);
  }

  @Test
  void aPushingWorkerFollowsTheEndpointDiscoveryNamesLater() {
    FleetState s = new FleetState(3, 100, Duration.ofSeconds(60));
    s.pushed(GEN, 1, activeLoad(0, 20, 5), Intake.NATS, S); // discovery knew only "generate"
    s.follow(id -> id == 1 ? LOAD : null); // then its load_metrics key appeared
    s.retain(List.of());
    FleetSnapshot snap = s.snapshot(S, true);
    assertThat(snap.endpoint(GEN)).isNull();
    assertThat(snap.endpoint(LOAD).workers())
        .extracting(w -> w.key().workerId())
        .containsExactly(1L);
  }

  @Test
  void aPushedWorkerOutlivesMissedPollsOfItsEndpoint() {
    FleetState s = new FleetState(1, 100, Duration.ofSeconds(60));
    s.pushed(GEN, 1, activeLoad(0, 20, 5), Intake.NATS, S);
    for (int i = 0; i < 5; i++) { // a fixed --component/--endpoint polls it and gets no replies
      s.record(GEN, List.of(), 0, 0, 0, 1);
    }
    assertThat(fleet(s, GEN, S).workers()).hasSize(1);
  }
}
