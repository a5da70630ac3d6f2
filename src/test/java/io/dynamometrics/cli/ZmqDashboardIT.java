package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.transport.LocalTransport;
import io.dynamometrics.wire.PushDecoder;
import io.dynamometrics.wire.PushEncoder;
import io.dynamometrics.wire.ZmqFrame;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * A fleet on the ZMQ event plane in a real browser: one worker whose publisher the service reaches
 * is shown with intake {@code zmq}, and the header says that another worker's advertised publisher
 * cannot be reached, with what fixes it.
 */
class ZmqDashboardIT {
  private static final Target GEN = new Target("dynamo", "VllmWorker", "generate");

  @Test
  void theHeaderCountsPublishersByStateAndTheWorkerShowsItsIntake() throws Exception {
    int dead;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      dead = s.getLocalPort(); // nothing listens there once closed
    }
    try (ZContext context = new ZContext(1);
        LocalTransport transport = new LocalTransport()) {
      ZMQ.Socket pub = context.createSocket(SocketType.PUB);
      pub.setLinger(0);
      pub.bind("tcp://127.0.0.1:*");
      long live = 0x5315a24510bf5b67L;
      long gone = 0x5315a24510bf5b68L;
      Roster roster =
          new Roster(
              Map.of(
                  live, new Roster.Member(live, List.of(GEN), null),
                  gone, new Roster.Member(gone, List.of(GEN), null)),
              Map.of(0xA1L, live, 0xB2L, gone),
              Set.of(),
              List.of(
                  new Roster.Channel(
                      pub.getLastEndpoint(), PushDecoder.KV_METRICS, 0xA1L, live, GEN),
                  new Roster.Channel(
                      "tcp://127.0.0.1:" + dead, PushDecoder.KV_METRICS, 0xB2L, gone, GEN)));
      PollOptions poll = DashboardIT.poll("generate", 3);
      Service service = new Service(DashboardIT.loopback(), poll);
      WebDriver browser = null;
      try {
        service.start(transport, poll, () -> true, () -> roster);
        browser = DashboardIT.headlessChromium();
        browser.get("http://127.0.0.1:" + service.port() + "/");
        // the worker publishes on every engine step while it is busy
        long[] seq = {0};
        WebDriver b = browser;
        new WebDriverWait(browser, Duration.ofSeconds(30))
            .until(
                d -> {
                  byte[] env =
                      PushEncoder.envelope(
                          0xA1L,
                          seq[0],
                          1L,
                          PushDecoder.KV_METRICS,
                          PushEncoder.activeLoad(live, 0, 10, 42));
                  byte[][] frames =
                      new ZmqFrame(PushDecoder.KV_METRICS, 0xA1L, seq[0]++, env).frames();
                  for (int i = 0; i < frames.length; i++) {
                    pub.send(frames[i], i < frames.length - 1 ? ZMQ.SNDMORE : 0);
                  }
                  String header = b.findElement(By.id("publishers")).getText();
                  return header.contains("1 connected")
                      && header.contains("1 unreachable")
                      && !b.findElements(By.cssSelector("#workers tbody tr")).isEmpty();
                });
        var publishers = browser.findElement(By.id("publishers"));
        assertThat(publishers.getText()).isEqualTo("ZMQ publishers: 1 connected, 1 unreachable");
        assertThat(publishers.getAttribute("class")).contains("down");
        assertThat(publishers.getAttribute("title")).contains("DYN_EVENT_PLANE_HOST");
        var row = browser.findElement(By.cssSelector("#workers tbody tr"));
        assertThat(row.getText()).contains(Long.toUnsignedString(live)).contains("zmq");
      } finally {
        if (browser != null) {
          browser.quit();
        }
        service.close();
      }
    }
  }
}
