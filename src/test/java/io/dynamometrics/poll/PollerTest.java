package io.dynamometrics.poll;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.fleet.Target;
import io.dynamometrics.transport.Gather;
import io.dynamometrics.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * When a gather ends: the poll's early-finish rules against a scripted bus on a scripted clock, so
 * that every rule is checked to the nanosecond without waiting on the wall clock.
 */
class PollerTest {
  private static final Target TARGET = new Target("dynamo", "my_component", "my_endpoint");
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final long MS = 1_000_000;

  /** One worker's reply, {@code atNanos} after the gather began. */
  private record Timed(long atNanos, long workerId) {}

  /**
   * Delivers each scripted reply at its time; a wait for a deadline before the next reply moves the
   * clock to the deadline. Nothing sleeps.
   */
  private static final class Scripted implements Transport {
    private final List<Timed> script;
    private final AtomicLong now = new AtomicLong(1_000 * MS);

    Scripted(List<Timed> script) {
      this.script = script;
    }

    @Override
    public Gather gather(List<String> subjects, byte[] payload) {
      long start = now.get();
      ArrayDeque<Timed> pending = new ArrayDeque<>(script);
      return new Gather() {
        @Override
        public Reply next(long deadlineNanos) {
          Timed t = pending.peek();
          if (t != null && start + t.atNanos() <= deadlineNanos) {
            pending.poll();
            now.set(Math.max(now.get(), start + t.atNanos()));
            return new Gather.Reply(reply(t.workerId()), false);
          }
          now.set(Math.max(now.get(), deadlineNanos));
          return null;
        }

        @Override
        public List<Reply> drain() {
          List<Reply> out = new ArrayList<>();
          while (!pending.isEmpty() && start + pending.peek().atNanos() <= now.get()) {
            out.add(new Gather.Reply(reply(pending.poll().workerId()), false));
          }
          return out;
        }

        @Override
        public void close() {}
      };
    }

    @Override
    public void publish(String subject, byte[] data) {}

    @Override
    public Subscription subscribe(String subject, String queue, MessageHandler handler) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean isConnected() {
      return true;
    }

    @Override
    public void close() {}
  }

  private static byte[] reply(long id) {
    String hex = Long.toHexString(id);
    return ("{\"type\":\"io.nats.micro.v1.stats_response\",\"name\":\"dynamo_my_component\",\"id\":\"x\",\"endpoints\":[{"
            + "\"name\":\"dynamo_my_component-my_endpoint-"
            + hex
            + "\",\"subject\":\"dynamo_my_component.my_endpoint-"
            + hex
            + "\","
            + "\"data\":{\"request_active_slots\":1,\"request_total_slots\":10,\"kv_active_blocks\":5,\"kv_total_blocks\":100,"
            + "\"num_requests_waiting\":0,\"gpu_cache_usage_perc\":0.05,\"gpu_prefix_cache_hit_rate\":0.5}}]}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static long id(int i) {
    return 0x1000L + i;
  }

  private static List<Long> ids(int from, int to) {
    return IntStream.range(from, to).mapToLong(PollerTest::id).boxed().toList();
  }

  /** Workers {@code from..to-1} answering one per millisecond, the first 1 ms in. */
  private static List<Timed> everyMillisecond(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> new Timed((i - from + 1) * MS, id(i))).toList();
  }

  private static final PollObserver NO_ERRORS =
      new PollObserver() {
        @Override
        public void gathered(Target target, int replies, double seconds) {}

        @Override
        public void decodeError(String source, String reason, String detail) {
          throw new AssertionError("the scripted replies are valid: " + reason + " " + detail);
        }

        @Override
        public void eventAccepted(String namespace) {}

        @Override
        public void eventDropped(String namespace) {}

        @Override
        public void workersOverLimit(Target target, int refused) {}

        @Override
        public void loadMessage(String result) {}
      };

  private static Poller.Result poll(List<Timed> script, List<Long> expected)
      throws InterruptedException {
    Scripted bus = new Scripted(script);
    return new Poller(bus, TIMEOUT, NO_ERRORS, bus.now::get).poll(TARGET, new HashSet<>(expected));
  }

  private static long tookNanos(Poller.Result r) {
    return r.endNanos() - r.startNanos();
  }

  @Test
  void theGatherEndsAtTheLastExpectedReply() throws Exception {
    Poller.Result r = poll(everyMillisecond(0, 20), ids(0, 20));
    assertThat(r.endpoints()).hasSize(20);
    assertThat(tookNanos(r)).isEqualTo(20 * MS);
    assertThat(r.lastReplyNanos()).as("no linger").isEqualTo(r.endNanos());
  }

  @Test
  void aNewcomerSlowerThanEveryKnownWorkerIsAwaitedInTheNextPoll() throws Exception {
    List<Timed> script = new ArrayList<>(everyMillisecond(0, 20));
    script.add(new Timed(24 * MS, id(99))); // not expected, answers after all 20 known workers
    Scripted bus = new Scripted(script);
    Poller poller = new Poller(bus, TIMEOUT, NO_ERRORS, bus.now::get);
    Poller.Result first = poller.poll(TARGET, new HashSet<>(ids(0, 20)));
    assertThat(tookNanos(first)).as("no linger after the last expected reply").isEqualTo(20 * MS);
    assertThat(first.endpoints()).extracting(e -> e.workerId()).doesNotContain(id(99));
    bus.now.addAndGet(1000 * MS); // the poll interval: the newcomer's late reply has arrived
    Poller.Result second = poller.poll(TARGET, new HashSet<>(ids(0, 20)));
    assertThat(second.endpoints()).extracting(e -> e.workerId()).contains(id(99)).hasSize(21);
    assertThat(tookNanos(second)).as("waits for the newcomer too").isEqualTo(24 * MS);
    poller.close();
  }

  @Test
  void aFewDepartedWorkersDoNotHoldThePollUntilTheTimeout() throws Exception {
    // 19 of the last poll's 20 workers answer (95%); the 20th has left. From the 18th reply (90%)
    // on, the gather ends once replies stall for as long as it has taken (at least 20 ms):
    // the 19th at 19 ms sets the end at 19 + 20 ms.
    Poller.Result r = poll(everyMillisecond(0, 19), ids(0, 20));
    assertThat(r.endpoints()).hasSize(19);
    assertThat(tookNanos(r)).isEqualTo(39 * MS);
    assertThat(r.endNanos() - r.lastReplyNanos()).as("the stall waited").isEqualTo(20 * MS);
  }

  @Test
  void aStallLongerThanTheGatherSoFarIsWaitedFor() throws Exception {
    // 19 of 20 by 100 ms: the stall to wait is then 100 ms, so the gather ends at 200 ms
    List<Timed> script =
        IntStream.range(0, 19).mapToObj(i -> new Timed((82 + i) * MS, id(i))).toList();
    Poller.Result r = poll(script, ids(0, 20));
    assertThat(tookNanos(r)).isEqualTo(200 * MS);
  }

  @Test
  void manyMissingWorkersAreWaitedForUntilTheTimeout() throws Exception {
    // only 15 of 20 (75%) answer: more likely a slow fleet than departures, so the gather waits
    Poller.Result r = poll(everyMillisecond(0, 15), ids(0, 20));
    assertThat(r.endpoints()).hasSize(15);
    assertThat(tookNanos(r)).isEqualTo(TIMEOUT.toNanos());
  }

  @Test
  void withoutExpectationsTheGatherEndsWhenRepliesStall() throws Exception {
    // the first poll knows no worker: three answer by 3 ms, and the gather waits for a stall as
    // long
    // as it has taken (at least 20 ms) instead of the whole timeout
    Poller.Result r = poll(everyMillisecond(0, 3), List.of());
    assertThat(r.endpoints()).hasSize(3);
    assertThat(tookNanos(r)).isEqualTo(23 * MS);
  }

  @Test
  void withoutExpectationsOrRepliesTheGatherRunsToTheTimeout() throws Exception {
    Poller.Result r = poll(List.of(), List.of());
    assertThat(r.endpoints()).isEmpty();
    assertThat(tookNanos(r)).isEqualTo(TIMEOUT.toNanos());
    assertThat(r.lastReplyNanos()).as("none came").isZero();
  }
}
