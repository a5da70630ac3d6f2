package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.it.Jar;
import io.dynamometrics.sim.SimFleet;
import io.dynamometrics.sim.WireGeneration;
import io.dynamometrics.transport.LocalTransport;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard of a fleet of Dynamo 1.4 workers, which push only their KV use: in a real browser,
 * what they do not send shows as a dash, never as 0 or NaN, and each row says how its values came.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PushedDashboardIT {
  private LocalTransport transport;
  private SimFleet fleet;
  private Service service;
  private WebDriver browser;
  private int port;

  @BeforeAll
  void start() throws Exception {
    PollOptions poll = DashboardIT.poll("generate", 3);
    transport = new LocalTransport();
    fleet =
        new SimFleet(
                transport,
                new SimFleet.Config(
                    "dynamo",
                    "VllmWorker",
                    "generate",
                    3,
                    WireGeneration.ENVELOPE_ENDPOINT,
                    7,
                    20,
                    null))
            .start();
    service = new Service(DashboardIT.loopback(), poll);
    service.start(transport, poll);
    port = service.port();
    browser = DashboardIT.headlessChromium();
  }

  @AfterAll
  void stop() {
    if (browser != null) {
      browser.quit();
    }
    service.close();
    fleet.close();
    transport.close();
  }

  @SuppressWarnings("unchecked")
  private List<List<String>> cells() {
    return (List<List<String>>)
        ((JavascriptExecutor) browser)
            .executeScript(
                "return [...document.querySelectorAll('#workers tbody tr:not([data-leaving])')]"
                    + ".map(r => [...r.cells].map(c => c.textContent))");
  }

  @Test
  void fieldsTheReleaseDoesNotSendShowAsADash() {
    browser.get("http://127.0.0.1:" + port + "/");
    new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> cells().size() == 3);
    for (List<String> row : cells()) {
      assertThat(row.get(2)).as("KV blocks: used / no total").matches("\\d+ / –");
      assertThat(row.get(4)).as("slots").isEqualTo("–");
      assertThat(row.get(5)).as("waiting").isEqualTo("–");
      assertThat(row.get(6)).as("cache usage").isEqualTo("–");
      assertThat(row.get(8)).as("intake").isEqualTo("nats");
    }
    assertThat(browser.findElement(By.cssSelector("#tile-kv .value")).getText()).isEqualTo("–");
    assertThat(browser.findElement(By.cssSelector("#tile-slots .value")).getText()).isEqualTo("–");
    assertThat(browser.getPageSource()).doesNotContain("NaN");
    // and /metrics carries no sample for what was not sent
    String metrics =
        Jar.await(
            port, "/metrics", b -> b.contains("llm_kv_blocks_active{"), Duration.ofSeconds(5));
    assertThat(Jar.samples(metrics, "llm_kv_blocks_active")).hasSize(3);
    assertThat(Jar.samples(metrics, "llm_kv_blocks_total")).isEmpty();
    assertThat(Jar.samples(metrics, "llm_requests_waiting")).isEmpty();
    assertThat(Jar.samples(metrics, "llm_kv_usage_ratio")).isEmpty();
  }
}
