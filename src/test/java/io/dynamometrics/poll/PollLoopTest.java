package io.dynamometrics.poll;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.FleetState;
import io.dynamometrics.fleet.Inbox;
import io.dynamometrics.fleet.Intake;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.transport.LocalTransport;
import io.dynamometrics.wire.ForwardPassMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** What the poll loop does with pushed values of workers discovery does not show (yet). */
class PollLoopTest {
  private static final Target GEN = new Target("dyn", "backend", "generate");

  private static Roster roster(long... workers) {
    Map<Long, Roster.Member> m = new java.util.HashMap<>();
    for (long w : workers) {
      m.put(w, new Roster.Member(w, List.of(GEN), null));
    }
    return new Roster(m, Map.of(), Set.of());
  }

  private static List<Long> shown(FleetSnapshot s) {
    return s.endpoints().stream()
        .map(EndpointFleet::workers)
        .flatMap(List::stream)
        .map(w -> w.key().workerId())
        .toList();
  }

  @Test
  void aValueThatComesBeforeItsWorkersKeyIsShownOnceTheKeyIsRead() throws Exception {
    AtomicReference<Roster> etcd = new AtomicReference<>(roster());
    Inbox inbox = new Inbox(100);
    try (LocalTransport transport = new LocalTransport();
        PollLoop loop =
            new PollLoop(
                transport,
                new Poller(transport, Duration.ofMillis(50), new QuietObserver()),
                Targets.fixed(GEN),
                new FleetState(3, 100, Duration.ofSeconds(60)),
                Duration.ofMillis(100),
                List.of(),
                etcd::get,
                new QuietObserver(),
                inbox,
                GEN,
                null)) {
      ForwardPassMetrics m = ForwardPassMetrics.none(0);
      inbox.offer(new Inbox.Load(null, 7, m, Intake.ZMQ, System.nanoTime()));
      assertThat(shown(loop.cycle())).as("the roster was read before the key").isEmpty();
      etcd.set(roster(7));
      assertThat(shown(loop.cycle())).containsExactly(7L);

      // a value of a worker that is gone is never shown, and is dropped after the grace
      inbox.offer(
          new Inbox.Load(
              null, 9, m, Intake.ZMQ, System.nanoTime() - PollLoop.EARLY_GRACE_NANOS - 1));
      assertThat(shown(loop.cycle())).containsExactly(7L);
      List<Inbox.Load> left = new java.util.ArrayList<>();
      inbox.drain(left::add, p -> {});
      assertThat(left).isEmpty();
    }
  }
}
