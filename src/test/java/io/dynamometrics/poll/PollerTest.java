package io.dynamometrics.poll;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.fleet.Target;
import io.dynamometrics.transport.Gather;
import io.dynamometrics.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** When a gather ends: the poll's early-finish rules against a scripted bus. */
class PollerTest {
  private static final Target TARGET = new Target("dynamo", "my_component", "my_endpoint");
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  /** Answers with one stats reply per worker id, at once, then stays silent until the caller's deadline. */
  private static final class Scripted implements Transport {
    private final List<Long> answering;

    Scripted(List<Long> answering) {
      this.answering = answering;
    }

    @Override
    public Gather gather(List<String> subjects, byte[] payload) {
      ArrayDeque<Gather.Reply> replies = new ArrayDeque<>();
      for (long id : answering) {
        replies.add(new Gather.Reply(reply(id), false));
      }
      return new Gather() {
        @Override
        public Reply next(long deadlineNanos) throws InterruptedException {
          Reply r = replies.poll();
          if (r != null) {
            return r;
          }
          long wait = deadlineNanos - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          return null;
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
        + "\"name\":\"dynamo_my_component-my_endpoint-" + hex + "\",\"subject\":\"dynamo_my_component.my_endpoint-" + hex + "\","
        + "\"data\":{\"request_active_slots\":1,\"request_total_slots\":10,\"kv_active_blocks\":5,\"kv_total_blocks\":100,"
        + "\"num_requests_waiting\":0,\"gpu_cache_usage_perc\":0.05,\"gpu_prefix_cache_hit_rate\":0.5}}]}").getBytes(StandardCharsets.UTF_8);
  }

  private static List<Long> ids(int from, int to) {
    return LongStream.range(from, to).map(i -> 0x1000 + i).boxed().toList();
  }

  private static Poller.Result poll(List<Long> answering, List<Long> expected) throws InterruptedException {
    PollObserver noErrors = new PollObserver() {
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
    };
    return new Poller(new Scripted(answering), TIMEOUT, noErrors).poll(TARGET, new HashSet<>(expected));
  }

  private static Duration took(Poller.Result r) {
    return Duration.ofNanos(r.endNanos() - r.startNanos());
  }

  @Test
  void everyExpectedWorkerAnsweredEndsTheGatherEarly() throws Exception {
    Poller.Result r = poll(ids(0, 20), ids(0, 20));
    assertThat(r.endpoints()).hasSize(20);
    assertThat(took(r)).isLessThan(TIMEOUT.dividedBy(2));
  }

  @Test
  void aFewDepartedWorkersDoNotHoldThePollUntilTheTimeout() throws Exception {
    // 19 of the last poll's 20 workers answer (95%): the 20th has left
    Poller.Result r = poll(ids(0, 19), ids(0, 20));
    assertThat(r.endpoints()).hasSize(19);
    assertThat(took(r)).isLessThan(TIMEOUT.dividedBy(2));
  }

  @Test
  void manyMissingWorkersAreWaitedForUntilTheTimeout() throws Exception {
    // only 15 of 20 (75%) answer: more likely a slow fleet than departures, so the gather waits
    Poller.Result r = poll(ids(0, 15), ids(0, 20));
    assertThat(r.endpoints()).hasSize(15);
    assertThat(took(r)).isGreaterThanOrEqualTo(TIMEOUT);
  }

  @Test
  void withoutExpectationsTheGatherRunsToTheTimeout() throws Exception {
    Poller.Result r = poll(ids(0, 3), List.of());
    assertThat(r.endpoints()).hasSize(3);
    assertThat(took(r)).isGreaterThanOrEqualTo(TIMEOUT);
  }
}
