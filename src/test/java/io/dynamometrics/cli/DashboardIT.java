package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.dynamometrics.it.Jar;
import io.dynamometrics.it.Servers;
import io.dynamometrics.sim.SimFleet;
import io.dynamometrics.sim.WireGeneration;
import io.dynamometrics.transport.LocalTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
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
    // staleness 5, not the default, so that the page is seen to name the configured value
    PollOptions poll = poll("load_metrics", 5);
    transport = new LocalTransport();
    fleet =
        new SimFleet(
                transport,
                new SimFleet.Config(
                    "dynamo", "VllmWorker", "load_metrics", 4, WireGeneration.G3, 1, 20, null))
            .start();
    service = new Service(loopback(), poll);
    service.start(transport, poll);
    base = "http://127.0.0.1:" + service.port();

    browser = headlessChromium();
    Files.createDirectories(SHOTS);
  }

  /** HTTP on 127.0.0.1, on a free port. */
  static ServeOptions loopback() {
    ServeOptions serve = new ServeOptions();
    serve.host = "127.0.0.1";
    serve.port = 0;
    return serve;
  }

  /** The demo fleet's namespace and component, {@code endpoint}, polled every 0.25 s. */
  static PollOptions poll(String endpoint, int staleness) {
    PollOptions poll = new PollOptions();
    poll.namespace = "dynamo";
    poll.component = "VllmWorker";
    poll.endpoint = endpoint;
    poll.pollInterval = 0.25;
    poll.scrapeTimeout = 0.25;
    poll.staleness = staleness;
    return poll;
  }

  /** Debian's Chromium, headless, through its chromedriver. */
  static WebDriver headlessChromium() throws java.io.IOException {
    System.setProperty("webdriver.chrome.driver", Servers.binary("chromedriver"));
    ChromeOptions options = new ChromeOptions();
    options.setBinary(Servers.binary("chromium"));
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--user-data-dir=" + Files.createTempDirectory("chromium"));
    return new ChromeDriver(ChromeDriverService.createDefaultService(), options);
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
    return (WebDriverWait)
        new WebDriverWait(browser, Duration.ofSeconds(seconds))
            .ignoring(StaleElementReferenceException.class);
  }

  private String tile(String id) {
    return browser.findElement(By.cssSelector("#" + id + " .value")).getText();
  }

  /** The worker ids in the table, read in one step (the table re-renders every second). */
  @SuppressWarnings("unchecked")
  private List<String> rows(boolean includeLeaving) {
    return (List<String>)
        ((JavascriptExecutor) browser)
            .executeScript(
                "return [...document.querySelectorAll(arguments[0])].map(r => r.dataset.worker)",
                "#workers tbody tr" + (includeLeaving ? "" : ":not([data-leaving])"));
  }

  private void screenshot(String name) throws Exception {
    byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
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
    waitUpTo(20)
        .until(
            d ->
                rows(false).size() == 4 && d.findElement(By.id("status")).getText().equals("live"));
    waitUpTo(20)
        .until(
            d -> {
              String drawn = d.findElement(By.id("chart-kv")).getDomAttribute("data-points");
              return drawn != null && Integer.parseInt(drawn) >= 2;
            });
    screenshot("dashboard-live");

    // Charts have a time axis in minutes ago and a y range with its unit; the readout follows the
    // keyboard.
    WebElement kvChart = browser.findElement(By.id("chart-kv"));
    List<String> ticks =
        kvChart.findElements(By.cssSelector("text.tick.x")).stream()
            .map(WebElement::getText)
            .toList();
    assertThat(ticks).contains("now").anyMatch(t -> t.matches("\\d+ min ago"));
    assertThat(kvChart.findElement(By.cssSelector("text.y-max")).getText()).endsWith("%");
    assertThat(kvChart.findElement(By.cssSelector("text.y-min")).getText()).isEqualTo("0%");
    assertThat(browser.findElement(By.cssSelector("#chart-waiting text.y-min")).getText())
        .isEqualTo("0");
    kvChart.sendKeys(Keys.END);
    waitUpTo(5).until(d -> !d.findElement(By.id("chart-kv-readout")).getText().isEmpty());
    assertThat(browser.findElement(By.id("chart-kv-readout")).getText())
        .matches("\\d+(\\.\\d)?% · (now|\\d+\\.\\d min ago)");
    kvChart.sendKeys(Keys.HOME);
    waitUpTo(5)
        .until(d -> "0".equals(d.findElement(By.id("chart-kv")).getDomAttribute("data-cursor")));
    new Actions(browser).moveToElement(browser.findElement(By.id("chart-slots"))).perform();
    waitUpTo(5).until(d -> !d.findElement(By.id("chart-slots-readout")).getText().isEmpty());

    // Each row carries its worker's KV usage over the last 15 minutes, with the current value.
    waitUpTo(10)
        .until(
            d ->
                d.findElements(By.cssSelector("#workers tbody tr svg.heat")).stream()
                        .allMatch(h -> Integer.parseInt(h.getDomAttribute("data-cells")) >= 1)
                    && d.findElements(By.cssSelector("svg.heat")).size() == 4);
    assertThat(
            browser
                .findElement(By.cssSelector("#workers tbody tr svg.heat"))
                .getDomAttribute("aria-label"))
        .matches("KV usage, last 15 min: now \\d+%, peak \\d+%");

    // Freeze the load so the page, the API and /metrics can be compared number for number.
    fleet.freeze(true);
    Thread.sleep(1500); // a window of several polls, so that every reader has the frozen values
    JsonNode api = JSON.readTree(Jar.get(service.port(), "/api/v1/fleet").body());
    JsonNode agg = api.get("endpoints").get(0).get("aggregates");
    String metrics = Jar.get(service.port(), "/metrics").body();
    waitUpTo(5).until(d -> tile("tile-kv").equals(pct(agg.get("kvUsageRatio").asDouble())));
    assertThat(tile("tile-workers"))
        .isEqualTo("4")
        .isEqualTo(String.valueOf((int) metric(metrics, "llm_workers")));
    assertThat(tile("tile-kv")).isEqualTo(pct(metric(metrics, "llm_kv_usage_ratio")));
    assertThat(tile("tile-slots"))
        .isEqualTo(pct(agg.get("slotsUsageRatio").asDouble()))
        .isEqualTo(pct(metric(metrics, "llm_request_slots_usage_ratio")));
    assertThat(tile("tile-waiting"))
        .isEqualTo(agg.get("requestsWaiting").asText())
        .isEqualTo(String.valueOf((long) metric(metrics, "llm_fleet_requests_waiting")));
    assertThat(tile("tile-imbalance"))
        .isEqualTo(String.format(Locale.ROOT, "%.2f", metric(metrics, "llm_load_imbalance_ratio")));
    List<String> apiWorkers = new ArrayList<>();
    api.get("endpoints")
        .get(0)
        .get("workers")
        .forEach(w -> apiWorkers.add(w.get("workerId").asText()));
    assertThat(rows(false)).containsExactlyInAnyOrderElementsOf(apiWorkers);
    fleet.freeze(false);

    // Sorting works from the keyboard.
    WebElement sortByKv = browser.findElement(By.cssSelector("button[data-sort='kvUse']"));
    sortByKv.sendKeys(Keys.ENTER);
    waitUpTo(5)
        .until(
            d ->
                "ascending"
                    .equals(sortByKv.findElement(By.xpath("..")).getDomAttribute("aria-sort")));

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
    assertThat(browser.findElement(By.id("banner")).getText())
        .contains("NATS is disconnected")
        .contains("after 5 missed polls");
    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("NATS down");
    screenshot("dashboard-nats-down");
    transport.setConnected(true);
    waitUpTo(20)
        .until(
            d ->
                !d.findElement(By.id("banner")).isDisplayed()
                    && d.findElement(By.id("status")).getText().equals("live"));
  }

  /**
   * Behind a proxy that serves the service under /dm/ and nothing else, the page and its API calls
   * still work.
   */
  @Test
  void theDashboardWorksUnderAPathPrefix() throws Exception {
    HttpServer proxy =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    HttpClient http = HttpClient.newHttpClient();
    Set<String> outside = ConcurrentHashMap.newKeySet();
    proxy.createContext(
        "/",
        ex -> {
          if (!ex.getRequestURI()
              .getPath()
              .equals("/favicon.ico")) { // the browser's own guess, not the page's
            outside.add(ex.getRequestURI().toString());
          }
          ex.sendResponseHeaders(404, -1);
          ex.close();
        });
    proxy.createContext(
        "/dm/",
        ex -> {
          String rest =
              ex.getRequestURI().getRawPath().substring("/dm".length())
                  + (ex.getRequestURI().getRawQuery() == null
                      ? ""
                      : "?" + ex.getRequestURI().getRawQuery());
          try {
            HttpResponse<byte[]> r =
                http.send(
                    HttpRequest.newBuilder(URI.create(base + rest)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            r.headers()
                .firstValue("Content-Type")
                .ifPresent(v -> ex.getResponseHeaders().set("Content-Type", v));
            ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
            ex.getResponseBody().write(r.body());
          } catch (InterruptedException e) {
            ex.sendResponseHeaders(502, -1);
          }
          ex.close();
        });
    proxy.start();
    try {
      browser.get("http://127.0.0.1:" + proxy.getAddress().getPort() + "/dm/");
      waitUpTo(20)
          .until(
              d ->
                  rows(false).size() == 4
                      && d.findElement(By.id("status")).getText().equals("live"));
      waitUpTo(20)
          .until(
              d -> {
                String drawn = d.findElement(By.id("chart-kv")).getDomAttribute("data-points");
                return drawn != null && Integer.parseInt(drawn) >= 2;
              });
      assertThat(outside).as("requests that escaped the prefix").isEmpty();
    } finally {
      proxy.stop(0);
    }
  }

  @Test
  void apiAnswersBadParametersWith400AndAClearMessage() throws Exception {
    var bad = Jar.get(service.port(), "/api/v1/history?window=abc");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(bad.body()).get("error").asText()).contains("'abc'");
    assertThat(Jar.get(service.port(), "/api/v1/history?window=2h").statusCode()).isEqualTo(400);
    assertThat(Jar.get(service.port(), "/api/v1/history?colour=red").statusCode()).isEqualTo(400);
    assertThat(Jar.get(service.port(), "/api/v1/history?component=Nope").statusCode())
        .isEqualTo(404);
    assertThat(Jar.get(service.port(), "/api/v1/nothing").statusCode()).isEqualTo(404);
    var ok =
        Jar.get(
            service.port(),
            "/api/v1/history?component=VllmWorker&endpoint=load_metrics&window=90s");
    assertThat(ok.statusCode()).isEqualTo(200);
    JsonNode h = JSON.readTree(ok.body());
    assertThat(h.get("windowSeconds").asInt()).isEqualTo(90);
    assertThat(h.get("points").size()).isPositive();
    JsonNode fleetJson = JSON.readTree(Jar.get(service.port(), "/api/v1/fleet").body());
    assertThat(fleetJson.at("/endpoints/0/component").asText()).isEqualTo("VllmWorker");
    assertThat(fleetJson.at("/status/mode").asText()).isEqualTo("active");
  }
}
