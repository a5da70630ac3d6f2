package io.dynamometrics.poll;

import io.dynamometrics.fleet.Target;
import io.dynamometrics.transport.Gather;
import io.dynamometrics.transport.Transport;
import io.dynamometrics.wire.DecodeError;
import io.dynamometrics.wire.ServiceNames;
import io.dynamometrics.wire.StatsEndpoint;
import io.dynamometrics.wire.StatsReplyDecoder;
import io.dynamometrics.wire.Subjects;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * One scatter-gather of {@code $SRV.STATS} for one endpoint, under both its G1 and G2 service
 * names. The gather ends at the timeout, or earlier: when every subject had no responders; when
 * every worker of the previous poll has answered (plus a short linger for newcomers); or when at
 * least {@value #MOST_PERCENT}% of them have and replies then stall for as long as the gather has
 * taken so far (at least {@link #MIN_STALL}): the others have most likely left, and under churn a
 * departed worker would otherwise hold every poll until the timeout. A worker cut off this way
 * keeps its last values; it leaves only after missing the usual number of polls.
 */
public final class Poller {
  /** The outcome of one gather. */
  public record Result(
      Target target, List<StatsEndpoint> endpoints, int replies, long startNanos, long endNanos) {}

  private static final byte[] EMPTY = new byte[0];
  private static final long MIN_LINGER_NANOS = Duration.ofMillis(2).toNanos();
  static final int MOST_PERCENT = 90;
  static final Duration MIN_STALL = Duration.ofMillis(20);

  private final Transport transport;
  private final long timeoutNanos;
  private final PollObserver observer;
  private final LongSupplier clock;

  public Poller(Transport transport, Duration timeout, PollObserver observer) {
    this(transport, timeout, observer, System::nanoTime);
  }

  /**
   * @param clock nanoseconds on {@link System#nanoTime()}'s scale, the same the gather's deadlines
   *     use
   */
  Poller(Transport transport, Duration timeout, PollObserver observer, LongSupplier clock) {
    this.transport = transport;
    this.timeoutNanos = timeout.toNanos();
    this.observer = observer;
    this.clock = clock;
  }

  /**
   * Gathers the stats of {@code target}.
   *
   * @param expected worker ids that should answer (those of the last poll, or those registered in
   *     etcd); the gather finishes once all have
   */
  public Result poll(Target target, Set<Long> expected) throws InterruptedException {
    List<String> services = ServiceNames.all(target.namespace(), target.component());
    StatsReplyDecoder decoder = new StatsReplyDecoder(services, target.endpoint());
    List<String> subjects = services.stream().map(Subjects::stats).toList();
    List<StatsEndpoint> endpoints = new ArrayList<>();
    Set<Long> missing = new HashSet<>(expected);
    int replies = 0;
    int silentSubjects = 0;
    long start = clock.getAsLong();
    long deadline = start + timeoutNanos;
    boolean lingering = false;
    long stallDeadline = Long.MAX_VALUE;
    try (Gather gather = transport.gather(subjects, EMPTY)) {
      Gather.Reply reply;
      while ((reply = gather.next(Math.min(deadline, stallDeadline))) != null) {
        if (reply.noResponders()) {
          if (++silentSubjects == subjects.size() && replies == 0) {
            break;
          }
          continue;
        }
        replies++;
        StatsReplyDecoder.Result decoded = decoder.decode(reply.data());
        for (DecodeError e : decoded.errors()) {
          observer.decodeError("stats", e.reason(), target + ": " + e.detail());
        }
        for (StatsEndpoint e : decoded.endpoints()) {
          endpoints.add(e);
          missing.remove(e.workerId());
        }
        if (!lingering && !expected.isEmpty()) {
          long now = clock.getAsLong();
          if (missing.isEmpty()) {
            deadline = Math.min(deadline, now + Math.max(MIN_LINGER_NANOS, (now - start) / 4));
            lingering = true;
          } else if ((long) (expected.size() - missing.size()) * 100
              >= (long) expected.size() * MOST_PERCENT) {
            stallDeadline = now + Math.max(MIN_STALL.toNanos(), now - start);
          }
        }
      }
    }
    long end = clock.getAsLong();
    observer.gathered(target, replies, (end - start) / 1e9);
    return new Result(target, endpoints, replies, start, end);
  }
}
