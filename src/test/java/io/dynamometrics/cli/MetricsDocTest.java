package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.sim.SimFleet;
import io.dynamometrics.sim.WireGeneration;
import io.dynamometrics.transport.LocalTransport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * docs/metrics.md against a running service: every series it serves is listed with its type, and
 * every listed series is served, or, where the page names a condition (a flag, an overflow), is one
 * the code registers.
 */
class MetricsDocTest {
  private static final Pattern ROW =
      Pattern.compile("^\\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \\| (\\w+) \\|.*\\|([^|]*)\\|$");
  private static final Pattern TYPE = Pattern.compile("^# TYPE (\\S+) (\\S+)$");

  /** Listed series and their type; those served only under a condition marked by a suffix "?". */
  private static Map<String, String> listed() throws IOException {
    Map<String, String> out = new HashMap<>();
    for (String line : Files.readAllLines(Path.of("docs/metrics.md"))) {
      Matcher m = ROW.matcher(line);
      if (m.matches()) {
        out.put(m.group(1) + (m.group(3).isBlank() ? "" : "?"), m.group(2));
      }
    }
    return out;
  }

  private static String metrics(int port) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  @Test
  void theMetricsPageListsWhatARunningServiceServes() throws Exception {
    PollOptions poll = DashboardIT.poll(null, 3);
    poll.component = null; // discover both fleets
    Map<String, String> listed = listed();
    assertThat(listed).hasSizeGreaterThan(30);
    try (LocalTransport transport = new LocalTransport()) {
      SimFleet stats =
          new SimFleet(
                  transport,
                  new SimFleet.Config(
                      "dynamo", "VllmWorker", "load_metrics", 3, WireGeneration.G3, 7, 20, null))
              .start();
      SimFleet pushing =
          new SimFleet(
                  transport,
                  new SimFleet.Config(
                      "dynamo",
                      "SglangWorker",
                      "generate",
                      2,
                      WireGeneration.ENVELOPE_ENDPOINT,
                      8,
                      20,
                      null))
              .start();
      Service service = new Service(DashboardIT.loopback(), poll);
      try {
        service.start(transport, poll);
        int port = service.port();
        String body =
            Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(
                    () -> metrics(port),
                    m ->
                        m.contains("\nllm_decode_blocks_active{")
                            && m.contains("\nllm_kv_hit_rate_isl_blocks_total{")
                            && m.contains("\nllm_requests_waiting{"));
        Map<String, String> served = new HashMap<>();
        for (String line : body.split("\n")) {
          Matcher m = TYPE.matcher(line);
          if (m.matches() && !m.group(1).startsWith("jvm_") && !m.group(1).startsWith("process_")) {
            served.put(m.group(1), m.group(2));
          }
        }
        assertThat(served).hasSizeGreaterThan(30);
        for (Map.Entry<String, String> s : served.entrySet()) {
          String type = listed.getOrDefault(s.getKey(), listed.get(s.getKey() + "?"));
          assertThat(type).as("%s is served but not in docs/metrics.md", s.getKey()).isNotNull();
          assertThat(type).as("the type of %s", s.getKey()).isEqualTo(s.getValue());
        }
        String sources = sources();
        for (String name : listed.keySet()) {
          if (name.endsWith("?")) {
            String bare = name.substring(0, name.length() - 1).replaceFirst("_total$", "");
            assertThat(sources).as("%s is listed but never registered", bare).contains(bare);
          } else {
            assertThat(served).as("%s is listed but not served", name).containsKey(name);
          }
        }
      } finally {
        service.close();
        stats.close();
        pushing.close();
      }
    }
  }

  private static String sources() throws IOException {
    StringBuilder b = new StringBuilder();
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        b.append(Files.readString(f));
      }
    }
    return b.toString();
  }
}
