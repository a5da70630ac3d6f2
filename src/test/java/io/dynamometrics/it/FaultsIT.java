package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dynamometrics.bench.Processes;
import io.nats.client.Connection;
import io.nats.client.Nats;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the service does when NATS, workers or HTTP clients misbehave: real processes on loopback.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultsIT {
  private static final Duration WAIT = Duration.ofSeconds(25);
  private static final Pattern WORKER_ID = Pattern.compile("worker_id=\"(\\d+)\"");
  @RegisterExtension final Started started = new Started();

  private Process mock(String name, String url, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("mock-worker", "--nats-server", url));
    all.addAll(List.of(args));
    return started.jar(name, all.toArray(String[]::new));
  }

  private Process aggregator(String name, String url, int port, String... args) throws Exception {
    return started.jar(name, Jar.serving(url, port, args));
  }

  private static Set<String> workerIds(String metrics, String family) {
    Set<String> ids = new HashSet<>();
    for (String line : Jar.samples(metrics, family)) {
      Matcher m = WORKER_ID.matcher(line);
      if (m.find()) {
        ids.add(m.group(1));
      }
    }
    return ids;
  }

  @Test
  void natsKilledAndRestartedOnTheSamePort() throws Exception {
    int natsPort = Servers.freePort();
    Servers.Nats first = new Servers.Nats(Jar.LOGS, natsPort);
    mock("restart-mock", first.url(), "--workers", "2");
    int port = Servers.freePort();
    aggregator("restart-agg", first.url(), port, "--poll-interval", "0.25");
    Jar.await(port, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    first.close();
    // away: not ready, disconnected, and workers go stale by the normal rule (no old values as
    // fresh)
    Jar.await(
        port,
        "/metrics",
        b ->
            b.contains("dynamo_metrics_nats_connected 0.0")
                && Jar.samples(b, "llm_kv_blocks_active").isEmpty(),
        WAIT);
    assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(503);
    Servers.Nats again = new Servers.Nats(Jar.LOGS, natsPort);
    try {
      long back = System.nanoTime();
      Jar.await(
          port,
          "/metrics",
          b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2,
          Duration.ofSeconds(15));
      System.out.println(
          "polls resumed " + (System.nanoTime() - back) / 1_000_000 + " ms after NATS returned");
      assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(200);
    } finally {
      again.close();
    }
  }

  @Test
  void natsAwayForAMinuteComesBackWithOtherWorkers() throws Exception {
    int natsPort = Servers.freePort();
    Servers.Nats first = new Servers.Nats(Jar.LOGS, natsPort);
    Process before =
        mock(
            "away-mock-before",
            first.url(),
            "--workers",
            "2",
            "--seed",
            "1",
            "--events-per-second",
            "20");
    int port = Servers.freePort();
    Process agg = aggregator("away-agg", first.url(), port, "--poll-interval", "0.25");
    String seen =
        Jar.await(
            port,
            "/metrics",
            b ->
                Jar.samples(b, "llm_kv_blocks_active").size() == 2
                    && workerIds(b, "llm_kv_hit_rate_isl_blocks_total").size() == 2,
            WAIT);
    Set<String> old = workerIds(seen, "llm_kv_blocks_active");
    first.close();
    Servers.stop(before, Duration.ofSeconds(5));

    long awayUntil = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < awayUntil) {
      String body = Jar.await(port, "/metrics", b -> true, WAIT);
      assertThat(body).contains("dynamo_metrics_nats_connected 0.0");
      assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(503);
      assertThat(Jar.get(port, "/healthz").statusCode()).isEqualTo(200);
      Thread.sleep(
          5000); // a window observed on purpose: NATS stays away, the service keeps serving
    }
    String during = Jar.await(port, "/metrics", b -> true, WAIT);
    assertThat(Jar.samples(during, "llm_kv_blocks_active"))
        .as("no worker presented as live while NATS is away")
        .isEmpty();
    assertThat(agg.isAlive()).isTrue();

    Servers.Nats again = new Servers.Nats(Jar.LOGS, natsPort);
    try {
      mock(
          "away-mock-after",
          again.url(),
          "--workers",
          "3",
          "--seed",
          "2",
          "--events-per-second",
          "20");
      long back = System.nanoTime();
      String after =
          Jar.await(
              port,
              "/metrics",
              b ->
                  Jar.samples(b, "llm_kv_blocks_active").size() == 3
                      && workerIds(b, "llm_kv_hit_rate_isl_blocks_total")
                          .containsAll(workerIds(b, "llm_kv_blocks_active")),
              WAIT);
      System.out.println(
          "after 60 s away: polls and events of the new workers "
              + (System.nanoTime() - back) / 1_000_000
              + " ms after NATS returned (mock start included)");
      Set<String> fresh = workerIds(after, "llm_kv_blocks_active");
      assertThat(fresh).as("only the new workers are live").doesNotContainAnyElementsOf(old);
      assertThat(Jar.samples(after, "llm_workers")).singleElement().asString().endsWith(" 3.0");
      assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(200);
    } finally {
      again.close();
    }
  }

  @Test
  void aThousandJoinLeaveCyclesLeaveNoSeriesAndNoHeapBehind() throws Exception {
    Servers.Nats nats = started.nats();
    int port = Servers.freePort();
    Process agg = aggregator("churn-agg", nats.url(), port, "--poll-interval", "0.25");
    Jar.await(port, "/readyz", b -> true, WAIT);
    // a first round of churn, so that one-time allocations (buffers, symbol tables, code paths) are
    // behind us
    Process warmUp =
        mock(
            "churn-warm-up",
            nats.url(),
            "--workers",
            "50",
            "--churn",
            "0.05",
            "--events-per-second",
            "0");
    Jar.await(port, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() >= 50, WAIT);
    Thread.sleep(10_000); // a window of churn on purpose: one-time allocations get behind us
    Servers.stop(warmUp, Duration.ofSeconds(5));
    Jar.await(port, "/metrics", b -> !b.contains("worker_id="), WAIT);
    String before = Processes.classHistogram(agg.pid());

    // 50 workers; every 50 ms one leaves and a new one joins: 20 cycles a second
    Process churn =
        mock(
            "churn-mock",
            nats.url(),
            "--workers",
            "50",
            "--churn",
            "0.05",
            "--events-per-second",
            "0",
            "--seed",
            "7");
    Set<String> everSeen = new HashSet<>();
    AtomicInteger most = new AtomicInteger();
    await("1,050 workers that came and went through the aggregator")
        .atMost(Duration.ofSeconds(150))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              Set<String> now = workerIds(Jar.get(port, "/metrics").body(), "llm_kv_blocks_active");
              everSeen.addAll(now);
              most.accumulateAndGet(now.size(), Math::max);
              return everSeen.size() >= 1050;
            });
    System.out.println(
        "churn: " + everSeen.size() + " distinct workers exported, at most " + most + " at once");
    // 50 live plus those within the staleness window (3 polls of 0.25 s at 20 leaves a second): far
    // below 100
    assertThat(most.get()).isLessThan(100);

    Servers.stop(churn, Duration.ofSeconds(5));
    Jar.await(
        port,
        "/metrics",
        b ->
            b.contains(
                    "llm_workers{component=\"MyComponent\",endpoint=\"my_endpoint\",namespace=\"dynamo\"} 0.0")
                && !b.contains("worker_id="),
        WAIT);
    Thread.sleep(1000); // a window for the last poll in flight to finish before the histogram
    String after = Processes.classHistogram(agg.pid());
    Files.writeString(Jar.LOGS.resolve("churn-histogram-before.txt"), before);
    Files.writeString(Jar.LOGS.resolve("churn-histogram-after.txt"), after);
    double grown = Processes.liveHeapBytes(after) - Processes.liveHeapBytes(before);
    System.out.println(
        "churn: live heap "
            + (long) Processes.liveHeapBytes(before)
            + " B before, "
            + (long) Processes.liveHeapBytes(after)
            + " B after ("
            + (long) grown
            + " B)");
    // Our own objects: none may be left per worker that came and went. History keeps one point per
    // poll for 15 minutes by design.
    Map<String, Long> ours0 = Processes.instances(before, "io.dynamometrics.");
    Map<String, Long> ours1 = Processes.instances(after, "io.dynamometrics.");
    for (Map.Entry<String, Long> e : ours1.entrySet()) {
      if (e.getKey().startsWith("io.dynamometrics.web.History$")) {
        continue;
      }
      assertThat(e.getValue())
          .as(e.getKey() + " instances after 1,000 cycles")
          .isLessThanOrEqualTo(ours0.getOrDefault(e.getKey(), 0L) + 20);
    }
    // a leak of even 512 bytes per departed worker would add more than 512 KiB (measured: about 30
    // KiB, History's points)
    assertThat(grown).as("live heap growth in bytes").isLessThan(512 * 1024);
  }

  @Test
  void stuckMetricsClientsNeverDelayPolling() throws Exception {
    Servers.Nats nats = started.nats();
    // 4,000 workers make a /metrics of about 4 MB: more than the kernel buffers, so a client that
    // does not read really blocks the server's write
    mock("stuck-mock", nats.url(), "--workers", "4000", "--events-per-second", "0");
    int port = Servers.freePort();
    aggregator("stuck-agg", nats.url(), port, "--poll-interval", "0.5");
    Jar.await(
        port,
        "/metrics",
        b -> Jar.samples(b, "llm_kv_blocks_active").size() == 4000,
        Duration.ofSeconds(90));

    Connection watcher = Nats.connect(nats.url());
    started.server(watcher);
    AtomicLong polls = new AtomicLong();
    watcher.createDispatcher(m -> polls.incrementAndGet()).subscribe("$SRV.STATS.>");
    watcher.flush(Duration.ofSeconds(2));

    List<Socket> stuck = new ArrayList<>();
    int readers = 4;
    for (int i = 0; i < readers; i++) { // ask for /metrics and never read the answer
      Socket s = new Socket();
      s.setReceiveBufferSize(1024);
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      OutputStream out = s.getOutputStream();
      out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      stuck.add(s);
    }
    for (int i = 0; i < 20; i++) { // start a request and never finish it
      Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
      s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
      stuck.add(s);
    }
    try {
      long p0 = polls.get();
      Thread.sleep(5000); // the window observed: stuck clients must not delay a single poll
      long during = polls.get() - p0;
      System.out.println(
          "stuck clients: "
              + during
              + " stats requests in 5 s (poll interval 0.5 s, two subjects a poll)");
      assertThat(during).as("polls went on while 24 clients were stuck").isGreaterThanOrEqualTo(10);
      // and other clients are still served
      assertThat(Jar.get(port, "/healthz").statusCode()).isEqualTo(200);
      assertThat(Jar.samples(Jar.get(port, "/metrics").body(), "llm_kv_blocks_active"))
          .hasSize(4000);
      // the server gives up on them (10 s to send a request, 30 s to take a response) and closes
      // them
      Thread.sleep(40_000);
      int cut = 0;
      for (int i = 0; i < stuck.size(); i++) {
        Socket s = stuck.get(i);
        s.setSoTimeout(3000);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
          InputStream in = s.getInputStream();
          byte[] buf = new byte[1 << 16];
          for (int n; (n = in.read(buf)) >= 0; ) {
            got.write(buf, 0, n);
          }
        } catch (SocketTimeoutException stillOpen) {
          continue; // the server kept this connection
        } catch (SocketException reset) {
          // closed by the server: what arrived before stays in 'got'
        }
        if (i < readers) {
          // a reader's response must have been cut short, not completed and then closed as idle
          String text = got.toString(StandardCharsets.ISO_8859_1);
          Matcher length = Pattern.compile("(?i)content-length: (\\d+)").matcher(text);
          int headerEnd = text.indexOf("\r\n\r\n");
          if (length.find()
              && headerEnd >= 0
              && text.length() - headerEnd - 4 >= Long.parseLong(length.group(1))) {
            continue;
          }
        }
        cut++;
      }
      assertThat(cut).as("stuck connections the server closed").isEqualTo(stuck.size());
    } finally {
      for (Socket s : stuck) {
        s.close();
      }
    }
  }
}
