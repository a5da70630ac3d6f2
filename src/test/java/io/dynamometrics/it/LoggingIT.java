package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * JSON logs as a log pipeline reads them: every line a run writes, on stdout and stderr, is one
 * JSON object with time, level, target and message, and no secret is in any of them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoggingIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RFC3339_UTC = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z";
  @RegisterExtension final Started started = new Started();

  /** Every line of {@code output}, each parsed as one JSON object with the four keys. */
  private static List<JsonNode> jsonLines(String output) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : output.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (Exception e) {
        throw new AssertionError("not a JSON line: " + line, e);
      }
      assertThat(n.isObject()).as(line).isTrue();
      assertThat(n.path("time").asText()).as(line).matches(RFC3339_UTC);
      assertThat(n.path("level").asText()).as(line).isIn("ERROR", "WARN", "INFO", "DEBUG", "TRACE");
      assertThat(n.path("target").asText()).as(line).isNotEmpty();
      assertThat(n.has("message")).as(line).isTrue();
      out.add(n);
    }
    return out;
  }

  private static String stopAndRead(Process p, Path log) throws Exception {
    Servers.stop(p, Duration.ofSeconds(10));
    return Files.readString(log);
  }

  /** Of a release that answers stats, and of one that pushes msgpack (no library warnings). */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"g3", "envelope"})
  void dynamosVariableMakesTheDemoWriteOnlyJsonLines(String wire) throws Exception {
    int port = Servers.freePort();
    Path log = Jar.LOGS.resolve("logging-demo-" + wire + ".log");
    Process demo =
        started.process(
            Servers.start(
                log,
                Map.of("DYN_LOGGING_JSONL", "1"),
                "bin/dynamo-metrics",
                "demo",
                "--port",
                Integer.toString(port),
                "--host",
                "127.0.0.1",
                "--workers",
                "4",
                "--churn",
                "0.5",
                "--wire",
                wire));
    Jar.await(port, "/readyz", b -> true, Duration.ofSeconds(30));
    // churn logs a worker leaving and one joining, each with its worker id
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> Files.readString(log).contains("\"worker_id\""));
    List<JsonNode> lines = jsonLines(stopAndRead(demo, log));
    assertThat(lines)
        .anySatisfy(
            n -> {
              assertThat(n.path("message").asText()).startsWith("demo running");
              assertThat(n.path("metrics").asText())
                  .isEqualTo("http://127.0.0.1:" + port + "/metrics");
              assertThat(n.path("workers").asInt()).isEqualTo(4);
            });
    assertThat(lines)
        .anySatisfy(
            n -> {
              assertThat(n.path("target").asText()).isEqualTo("io.dynamometrics.sim.SimFleet");
              assertThat(n.path("worker_id").isIntegralNumber()).isTrue();
            });
  }

  @Test
  void theAggregatorLogsJsonWithoutTheCredentialsItWasGiven() throws Exception {
    Servers.Nats nats = started.nats();
    int port = Servers.freePort();
    String secretUrl = "nats://watcher:Sup3rSecretPassw0rd@127.0.0.1:" + nats.port;
    Process agg =
        started.jar(
            "logging-agg",
            Jar.serving(secretUrl, port, "--log-format", "json", "--log-level", "debug"));
    Jar.await(port, "/readyz", b -> true, Duration.ofSeconds(30));
    String out = stopAndRead(agg, Jar.LOGS.resolve("logging-agg.log"));
    assertThat(out).doesNotContain("Sup3rSecretPassw0rd");
    List<JsonNode> lines = jsonLines(out);
    assertThat(lines)
        .anySatisfy(
            n -> {
              assertThat(n.path("nats_state").asText()).isEqualTo("up");
              assertThat(n.path("message").asText())
                  .isEqualTo("connected to NATS at nats://***@127.0.0.1:" + nats.port);
            });
  }

  @Test
  void aUsersMistakeIsOneJsonLineToo() throws Exception {
    Jar.Result badFlag = Jar.run(Map.of("DYN_LOGGING_JSONL", "1"), "--no-such-flag");
    assertThat(badFlag.exitCode()).isEqualTo(2);
    assertThat(jsonLines(badFlag.output()))
        .singleElement()
        .satisfies(
            n -> {
              assertThat(n.path("level").asText()).isEqualTo("ERROR");
              assertThat(n.path("message").asText()).contains("--no-such-flag").contains("--help");
            });
    Jar.Result badPort = Jar.run(Map.of(), "--log-format", "json", "--port", "70000");
    assertThat(badPort.exitCode()).isEqualTo(2);
    assertThat(jsonLines(badPort.output()))
        .singleElement()
        .satisfies(n -> assertThat(n.path("message").asText()).contains("70000"));
    Jar.Result badFormat = Jar.run(Map.of(), "--log-format", "yaml");
    assertThat(badFormat.exitCode()).isEqualTo(2);
    assertThat(badFormat.output())
        .isEqualTo("dynamo-metrics: unknown log format 'yaml' (expected text or json)\n");
  }
}
