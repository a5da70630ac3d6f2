package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.it.Jar;
import io.dynamometrics.it.Servers;
import io.dynamometrics.sim.SimFleet;
import io.dynamometrics.sim.WireGeneration;
import io.dynamometrics.transport.LocalTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The demo's dashboard in a real headless Chromium: what a person would see. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardIT {
  private static final Path SHOTS = Path.of("target/screenshots");
  private static final ObjectMapper JSON = new ObjectMapper();

  private LocalTransport transport;
  private SimFleet fleet;
  private Service service;
  private WebDriver browser;
  private String base;

  @BeforeAll
  void start() throws Exception {
    ServeOptions serve = new ServeOptions();
    serve.host = "127.0.0.1";
    serve.port = 0;
    PollOptions poll = new PollOptions();
    poll.namespace = "dynamo";
    poll.component = "VllmWorker";
    poll.endpoint = "load_metrics";
    poll.pollInterval = 0.25;
    poll.scrapeTimeout = 0.25;
    poll.staleness = 3;
    transport = new LocalTransport();
    fleet = new SimFleet(transport, new SimFleet.Config("dynamo", "VllmWorker", "load_metrics", 4, WireGeneration.G3, 1, 20, null)).start();
    service = new Service(serve, poll);
    service.start(transport, poll);
    base = "http://127.0.0.1:" + service.port();

    System.setProperty("webdriver.chrome.driver", Servers.binary("chromedriver"));
    ChromeOptions options = new ChromeOptions();
    options.setBinary(Servers.binary("chromium"));
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--window-size=1280,900", "--user-data-dir=" + Files.createTempDirectory("chromium"));
    browser = new ChromeDriver(ChromeDriverService.createDefaultService(), options);
    Files.createDirectories(SHOTS);
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

  private WebDriverWait waitUpTo(int seconds) {
    return (WebDriverWait) new WebDriverWait(browser, Duration.ofSeconds(seconds))
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class);
  }

  private String tile(String id) {
    return browser.findElement(By.cssSelector("#" + id + " .value")).getText();
  }

  /** The worker ids in the table, read in one step (the table re-renders every second). */
  @SuppressWarnings("unchecked")
  private List<String> rows(boolean includeLeaving) {
    return (List<String>) ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
        "return [...document.querySelectorAll(arguments[0])].map(r => r.dataset.worker)",
        "#workers tbody tr" + (includeLeaving ? "" : ":not([data-leaving])"));
  }

  private void screenshot(String name) throws Exception {
    byte[] png = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(SHOTS.resolve(name + ".png"), png);
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }

  private static double metric(String body, String name) {
    return Double.parseDouble(Jar.samples(body, name).get(0).replaceAll(".* ", ""));
  }

  @Test
  void aPersonSeesTheFleetLeaveChartsAndTheNatsDownState() throws Exception {
    browser.get(base + "/");
    waitUpTo(20).until(d -> rows(false).size() == 4 && d.findElement(By.id("status")).getText().equals("live"));
    waitUpTo(20).until(d -> {
      String drawn = d.findElement(By.id("chart-kv")).getDomAttribute("data-points");
      return drawn != null && Integer.parseInt(drawn) >= 2;
    });
    screenshot("dashboard-live");

    // Freeze the load so the page, the API and /metrics can be compared number for number.
    fleet.freeze(true);
    Thread.sleep(1500);
    JsonNode api = JSON.readTree(Jar.get(service.port(), "/api/v1/fleet").body());
    JsonNode agg = api.get("endpoints").get(0).get("aggregates");
    String metrics = Jar.get(service.port(), "/metrics").body();
    waitUpTo(5).until(d -> tile("tile-kv").equals(pct(agg.get("kvUsageRatio").asDouble())));
    assertThat(tile("tile-workers")).isEqualTo("4").isEqualTo(String.valueOf((int) metric(metrics, "llm_workers")));
    assertThat(tile("tile-kv")).isEqualTo(pct(metric(metrics, "llm_kv_usage_ratio")));
    assertThat(tile("tile-slots")).isEqualTo(pct(agg.get("slotsUsageRatio").asDouble())).isEqualTo(pct(metric(metrics, "llm_request_slots_usage_ratio")));
    assertThat(tile("tile-waiting")).isEqualTo(agg.get("requestsWaiting").asText())
        .isEqualTo(String.valueOf((long) metric(metrics, "llm_fleet_requests_waiting")));
    assertThat(tile("tile-imbalance")).isEqualTo(String.format(Locale.ROOT, "%.2f", metric(metrics, "llm_load_imbalance_ratio")));
    List<String> apiWorkers = new java.util.ArrayList<>();
    api.get("endpoints").get(0).get("workers").forEach(w -> apiWorkers.add(w.get("workerId").asText()));
    assertThat(rows(false)).containsExactlyInAnyOrderElementsOf(apiWorkers);
    fleet.freeze(false);

    // Sorting works from the keyboard.
    WebElement sortByKv = browser.findElement(By.cssSelector("button[data-sort='kvUse']"));
    sortByKv.sendKeys(Keys.ENTER);
    waitUpTo(5).until(d -> "ascending".equals(sortByKv.findElement(By.xpath("..")).getDomAttribute("aria-sort")));

    // A worker that leaves fades, then leaves the table.
    long leaving = fleet.leases().get(1);
    fleet.stop(leaving);
    waitUpTo(20).until(d -> rows(false).size() == 3);
    screenshot("dashboard-worker-leaving");
    assertThat(rows(true)).contains(String.valueOf(leaving)); // still there, faded
    waitUpTo(20).until(d -> !rows(true).contains(String.valueOf(leaving)));

    // NATS away: the page says so instead of showing old numbers as current.
    transport.setConnected(false);
    waitUpTo(20).until(d -> d.findElement(By.id("banner")).isDisplayed());
    assertThat(browser.findElement(By.id("banner")).getText()).contains("NATS is disconnected");
    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("NATS down");
    screenshot("dashboard-nats-down");
    transport.setConnected(true);
    waitUpTo(20).until(d -> !d.findElement(By.id("banner")).isDisplayed() && d.findElement(By.id("status")).getText().equals("live"));
  }

  @Test
  void apiAnswersBadParametersWith400AndAClearMessage() throws Exception {
    var bad = Jar.get(service.port(), "/api/v1/history?window=abc");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(bad.body()).get("error").asText()).contains("'abc'");
    assertThat(Jar.get(service.port(), "/api/v1/history?window=2h").statusCode()).isEqualTo(400);
    assertThat(Jar.get(service.port(), "/api/v1/history?colour=red").statusCode()).isEqualTo(400);
    assertThat(Jar.get(service.port(), "/api/v1/history?component=Nope").statusCode()).isEqualTo(404);
    assertThat(Jar.get(service.port(), "/api/v1/nothing").statusCode()).isEqualTo(404);
    var ok = Jar.get(service.port(), "/api/v1/history?component=VllmWorker&endpoint=load_metrics&window=90s");
    assertThat(ok.statusCode()).isEqualTo(200);
    JsonNode h = JSON.readTree(ok.body());
    assertThat(h.get("windowSeconds").asInt()).isEqualTo(90);
    assertThat(h.get("points").size()).isPositive();
    JsonNode fleetJson = JSON.readTree(Jar.get(service.port(), "/api/v1/fleet").body());
    assertThat(fleetJson.at("/endpoints/0/component").asText()).isEqualTo("VllmWorker");
    assertThat(fleetJson.at("/status/mode").asText()).isEqualTo("active");
  }
}
