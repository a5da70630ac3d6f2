package io.dynamometrics.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Inbox;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.intake.ZmqIntake;
import io.dynamometrics.poll.QuietObserver;
import io.dynamometrics.wire.PushDecoder;
import io.dynamometrics.wire.PushEncoder;
import io.dynamometrics.wire.ZmqFrame;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * The ZMQ intake against a bare JeroMQ subscriber, side by side: {@link ZmqFlood} (another process)
 * publishes the load of {@code N} workers from {@code N} PUB sockets; in this process a SUB socket
 * that only counts messages and the service's {@link ZmqIntake} (given the roster of those
 * publishers, as etcd would advertise them) are connected to all of them at once, so each publisher
 * sends every message to both. Then the time from a new publisher appearing in discovery to its
 * first value decoded, a number of times.
 */
final class ZmqIngest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Target GEN = new Target("bench", "backend", "generate");

  /**
   * What one run measured.
   *
   * @param ratio decoded / bare: 1.0 means the intake kept up with what a bare subscriber received
   * @param lost the gaps the intake counted in the publishers' sequences
   * @param firstValueMedianMs from a new publisher in the roster to its first value decoded
   */
  record Result(
      int publishers,
      double seconds,
      long sent,
      long bareReceived,
      long decoded,
      double ratio,
      long lost,
      int firstValueSamples,
      double firstValueMedianMs,
      double firstValueMaxMs) {}

  /** Counts what the intake reports; nothing else is needed here. */
  private static final class Counts extends QuietObserver implements ZmqIntake.Observer {
    final AtomicLong lost = new AtomicLong();
    final AtomicLong errors = new AtomicLong();

    @Override
    public void decodeError(String source, String reason, String detail) {
      errors.incrementAndGet();
    }

    @Override
    public void lost(long messages) {
      lost.addAndGet(messages);
    }

    @Override
    public void restarted() {}

    @Override
    public void disconnected() {}

    @Override
    public void publishers(Map<ZmqIntake.State, Integer> byState) {}
  }

  private ZmqIngest() {}

  private static Roster roster(List<Roster.Channel> channels) {
    Map<Long, Roster.Member> workers = new HashMap<>();
    Map<Long, Long> publishers = new HashMap<>();
    for (Roster.Channel c : channels) {
      workers.put(c.workerId(), new Roster.Member(c.workerId(), List.of(GEN), null));
      publishers.put(c.publisherId(), c.workerId());
    }
    return new Roster(workers, publishers, Set.of(), channels);
  }

  static Result run(Path out, int publishers, int seconds, int samples) throws Exception {
    Path logs = out.resolve("logs");
    Files.createDirectories(logs);
    Path addressFile = logs.resolve("zmq-flood-addresses.txt");
    Files.deleteIfExists(addressFile);
    Path floodLog = logs.resolve("zmq-flood.log");
    Process flood =
        Processes.start(
            floodLog,
            List.of(
                Processes.java(),
                "-cp",
                Processes.classPath(),
                ZmqFlood.class.getName(),
                Integer.toString(publishers),
                Integer.toString(seconds),
                addressFile.toString()));
    Counts counts = new Counts();
    Inbox inbox = new Inbox(publishers * 2);
    try (ZContext bareContext = new ZContext(1);
        ZmqIntake intake =
            new ZmqIntake("bench", inbox, new HitRates(100, 1_000_000_000L), counts, counts)) {
      long until = System.nanoTime() + 60_000_000_000L;
      while (!Files.exists(addressFile) || Files.readAllLines(addressFile).size() < publishers) {
        if (System.nanoTime() > until || !flood.isAlive()) {
          throw new IllegalStateException("the flood process did not start; see " + floodLog);
        }
        Thread.sleep(50);
      }
      List<String> addresses = Files.readAllLines(addressFile);
      List<Roster.Channel> channels = new ArrayList<>();
      for (int i = 0; i < publishers; i++) {
        long id = ZmqFlood.publisherId(i);
        channels.add(new Roster.Channel(addresses.get(i), PushDecoder.KV_METRICS, id, id, GEN));
      }
      // the bare subscriber: receives and counts whole messages, nothing more
      ZMQ.Socket bare = bareContext.createSocket(SocketType.SUB);
      bare.setRcvHWM(1000);
      bare.subscribe(PushDecoder.KV_METRICS.getBytes(StandardCharsets.UTF_8));
      for (String a : addresses) {
        bare.connect(a);
      }
      AtomicLong bareCount = new AtomicLong();
      Thread bareThread =
          Thread.ofPlatform()
              .name("bare-sub")
              .start(
                  () -> {
                    bare.setReceiveTimeOut(200);
                    while (!Thread.currentThread().isInterrupted()) {
                      byte[] f = bare.recv();
                      if (f == null) {
                        continue;
                      }
                      while (bare.hasReceiveMore()) {
                        bare.recv();
                      }
                      bareCount.incrementAndGet();
                    }
                  });
      intake.accept(roster(channels));
      until = System.nanoTime() + 60_000_000_000L;
      while (intake.publishers().getOrDefault(ZmqIntake.State.CONNECTED, 0) < publishers) {
        if (System.nanoTime() > until) {
          throw new IllegalStateException(
              "the intake connected to " + intake.publishers() + " of " + publishers);
        }
        Thread.sleep(50);
      }
      Thread.sleep(2000); // both subscriptions have reached every publisher
      // the poll loop's part: take what waits in the inbox once in a while
      Thread drainer =
          Thread.ofPlatform()
              .name("drain")
              .start(
                  () -> {
                    while (!Thread.currentThread().isInterrupted()) {
                      inbox.drain(l -> {}, p -> {});
                      try {
                        Thread.sleep(100);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
      long decodedBefore = intake.decoded();
      OutputStream go = flood.getOutputStream();
      go.write("go\n".getBytes(StandardCharsets.UTF_8));
      go.flush();
      long sent = -1;
      until = System.nanoTime() + (seconds + 60) * 1_000_000_000L;
      while (sent < 0 && System.nanoTime() < until) {
        Thread.sleep(200);
        sent =
            Files.readAllLines(floodLog).stream()
                .filter(l -> l.startsWith("sent "))
                .mapToLong(l -> Long.parseLong(l.substring(5).strip()))
                .findFirst()
                .orElse(-1);
      }
      // both count what was queued when the flood ended
      long last = -1;
      while (last != bareCount.get() + intake.decoded()) {
        last = bareCount.get() + intake.decoded();
        Thread.sleep(1000);
      }
      long decoded = intake.decoded() - decodedBefore;
      long bareReceived = bareCount.get();
      go.write("done\n".getBytes(StandardCharsets.UTF_8));
      go.flush();
      flood.waitFor();
      bareThread.interrupt();
      bareThread.join();
      drainer.interrupt();
      drainer.join();

      double[] firstValue = firstValues(intake, inbox, samples);
      Arrays.sort(firstValue);
      Result r =
          new Result(
              publishers,
              seconds,
              sent,
              bareReceived,
              decoded,
              bareReceived == 0 ? Double.NaN : (double) decoded / bareReceived,
              counts.lost.get(),
              samples,
              samples == 0 ? Double.NaN : firstValue[samples / 2],
              samples == 0 ? Double.NaN : firstValue[samples - 1]);
      JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("zmq-ingest.json").toFile(), r);
      return r;
    } finally {
      Processes.stop(flood);
    }
  }

  /**
   * Milliseconds from a new publisher in the roster to its first value decoded, {@code samples}
   * times: the publisher sends every millisecond, as a busy engine does.
   */
  private static double[] firstValues(ZmqIntake intake, Inbox inbox, int samples) throws Exception {
    double[] ms = new double[samples];
    try (ZContext context = new ZContext(1)) {
      for (int i = 0; i < samples; i++) {
        ZMQ.Socket pub = context.createSocket(SocketType.PUB);
        pub.setLinger(0);
        pub.bind("tcp://127.0.0.1:*");
        long id = 0x77000000L + i;
        intake.accept(
            roster(
                List.of(
                    new Roster.Channel(
                        pub.getLastEndpoint(), PushDecoder.KV_METRICS, id, id, GEN))));
        long start = System.nanoTime();
        boolean got = false;
        for (long seq = 0; !got && System.nanoTime() - start < 30_000_000_000L; seq++) {
          byte[] env =
              PushEncoder.envelope(
                  id, seq, 1L, PushDecoder.KV_METRICS, PushEncoder.activeLoad(id, 0, 1, 2));
          byte[][] frames = new ZmqFrame(PushDecoder.KV_METRICS, id, seq, env).frames();
          for (int f = 0; f < frames.length; f++) {
            pub.send(frames[f], f < frames.length - 1 ? ZMQ.SNDMORE : 0);
          }
          Thread.sleep(1);
          boolean[] seen = {false};
          inbox.drain(l -> seen[0] |= l.workerId() == id, p -> {});
          got = seen[0];
        }
        ms[i] = (System.nanoTime() - start) / 1e6;
        intake.accept(roster(List.of()));
        pub.close();
      }
    }
    return ms;
  }
}
