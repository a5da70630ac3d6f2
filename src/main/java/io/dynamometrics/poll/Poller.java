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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * One scatter-gather of {@code $SRV.STATS} for one endpoint, under both its G1 and G2 service
 * names. The gather ends at the timeout, or earlier: when every subject had no responders; at once
 * when every awaited worker has answered; or when at least {@value #MOST_PERCENT}% of them have (or
 * none is awaited yet, as in the first poll) and replies then stall for as long as the gather has
 * taken so far (at least {@link #MIN_STALL}): the others have most likely left, and under churn a
 * departed worker would otherwise hold every poll until the timeout. A worker cut off this way
 * keeps its last values; it leaves only after missing the usual number of polls.
 *
 * <p>Awaited are the workers the caller expects (the last poll's, or etcd's registrations) and any
 * newcomer whose reply came after the previous gather ended: a gather that ends early keeps its
 * inbox open until the next poll of its target, so a worker slower than all the known ones is
 * awaited, and gathered, in the next poll. Every newcomer shows up within two polls, and no poll
 * lingers after its last expected reply.
 */
public final class Poller implements AutoCloseable {
  /**
   * The outcome of one gather: its replies' endpoints; when it started, received its last reply (0:
   * none) and ended.
   */
  public record Result(
      Target target,
      List<StatsEndpoint> endpoints,
      int replies,
      long startNanos,
      long lastReplyNanos,
      long endNanos) {}

  private static final byte[] EMPTY = new byte[0];
  static final int MOST_PERCENT = 90;
  static final Duration MIN_STALL = Duration.ofMillis(20);

  private final Transport transport;
  private final long timeoutNanos;
  private final PollObserver observer;
  private final LongSupplier clock;
  private final Map<Target, Route> routes = new ConcurrentHashMap<>();
  private final Map<Target, Gather> late = new ConcurrentHashMap<>();

  /** What a target's polls need that never changes: its subjects and its decoder. */
  private static final class Route {
    final List<String> subjects;
    final StatsReplyDecoder decoder;

    Route(Target target) {
      List<String> services = ServiceNames.all(target.namespace(), target.component());
      this.subjects = services.stream().map(Subjects::stats).toList();
      this.decoder = new StatsReplyDecoder(services, target.endpoint());
    }
  }

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
    Route route = routes.computeIfAbsent(target, Route::new);
    Set<Long> awaited = new HashSet<>(expected);
    Gather previous = late.remove(target);
    if (previous != null) { // replies that came after the last gather ended: newcomers to wait for
      for (Gather.Reply r : previous.drain()) {
        if (!r.noResponders()) {
          for (StatsEndpoint e : route.decoder.decode(r.data()).endpoints()) {
            awaited.add(e.workerId());
          }
        }
      }
      previous.close();
    }
    List<StatsEndpoint> endpoints = new ArrayList<>();
    Set<Long> missing = new HashSet<>(awaited);
    int replies = 0;
    int silentSubjects = 0;
    long start = clock.getAsLong();
    long deadline = start + timeoutNanos;
    long stallDeadline = Long.MAX_VALUE;
    long lastReply = 0;
    Gather gather = transport.gather(route.subjects, EMPTY);
    try {
      Gather.Reply reply;
      while ((reply = gather.next(Math.min(deadline, stallDeadline))) != null) {
        if (reply.noResponders()) {
          if (++silentSubjects == route.subjects.size() && replies == 0) {
            break;
          }
          continue;
        }
        replies++;
        lastReply = clock.getAsLong();
        StatsReplyDecoder.Result decoded = route.decoder.decode(reply.data());
        for (DecodeError e : decoded.errors()) {
          observer.decodeError("stats", e.reason(), target + ": " + e.detail());
        }
        for (StatsEndpoint e : decoded.endpoints()) {
          endpoints.add(e);
          missing.remove(e.workerId());
        }
        if (!awaited.isEmpty() && missing.isEmpty()) {
          break;
        }
        // nothing awaited (the first poll), or most have answered: end once replies stall
        if (awaited.isEmpty()
            || (long) (awaited.size() - missing.size()) * 100
                >= (long) awaited.size() * MOST_PERCENT) {
          long now = clock.getAsLong();
          stallDeadline = now + Math.max(MIN_STALL.toNanos(), now - start);
        }
      }
    } finally {
      if (replies > 0 && clock.getAsLong() < deadline) {
        late.put(
            target, gather); // ended early, still listening: a slower worker is awaited next poll
      } else {
        gather.close();
      }
    }
    long end = clock.getAsLong();
    observer.gathered(target, replies, (end - start) / 1e9);
    return new Result(target, endpoints, replies, start, lastReply, end);
  }

  /** Stops listening for late replies of targets no longer polled. */
  void retain(Set<Target> polled) {
    late.entrySet()
        .removeIf(
            e -> {
              if (polled.contains(e.getKey())) {
                return false;
              }
              e.getValue().close();
              return true;
            });
    routes.keySet().retainAll(polled);
  }

  /** Stops listening for late replies. */
  @Override
  public void close() {
    late.values().forEach(Gather::close);
    late.clear();
  }
}
