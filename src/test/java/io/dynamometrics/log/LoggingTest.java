package io.dynamometrics.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoggingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Logger logger = Logger.getLogger("io.dynamometrics.test.Unit");

  @AfterEach
  void textAgain() {
    Logging.configure("info", Logging.Format.TEXT);
  }

  /** The lines the root handler writes for what {@code body} logs, formatted as configured. */
  private static List<String> lines(Runnable body) {
    Handler handler = Logger.getLogger("").getHandlers()[0];
    List<String> out = new ArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            if (isLoggable(r)) {
              out.add(handler.getFormatter().format(r));
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    capture.setLevel(handler.getLevel());
    Logger root = Logger.getLogger("");
    root.removeHandler(handler); // the lines go to the list, not to the build's output
    root.addHandler(capture);
    try {
      body.run();
    } finally {
      root.removeHandler(capture);
      root.addHandler(handler);
    }
    return out;
  }

  @Test
  void jsonLinesCarryTheFieldsAsKeys() throws IOException {
    Logging.configure("info", Logging.Format.JSON);
    List<String> out =
        lines(
            () ->
                Log.log(
                    logger,
                    Level.WARNING,
                    "worker 7 said \"no\"\non two lines",
                    Field.of("worker_id", 7L),
                    Field.of("endpoint", "dynamo/backend/generate"),
                    Field.of("healthy", false),
                    Field.of("ratio", 0.25)));
    assertThat(out).hasSize(1);
    String line = out.get(0);
    assertThat(line).endsWith("\n");
    assertThat(line.strip()).doesNotContain("\n");
    JsonNode n = JSON.readTree(line);
    assertThat(n.get("time").asText())
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
    assertThat(n.get("level").asText()).isEqualTo("WARN");
    assertThat(n.get("target").asText()).isEqualTo("io.dynamometrics.test.Unit");
    assertThat(n.get("message").asText()).isEqualTo("worker 7 said \"no\"\non two lines");
    assertThat(n.get("worker_id").isNumber()).isTrue();
    assertThat(n.get("worker_id").asLong()).isEqualTo(7);
    assertThat(n.get("endpoint").asText()).isEqualTo("dynamo/backend/generate");
    assertThat(n.get("healthy").isBoolean()).isTrue();
    assertThat(n.get("ratio").asDouble()).isEqualTo(0.25);
  }

  @Test
  void jsonCarriesTheExceptionOnTheSameLine() throws IOException {
    Logging.configure("info", Logging.Format.JSON);
    List<String> out =
        lines(
            () ->
                Log.log(
                    logger,
                    Level.SEVERE,
                    "poll failed",
                    new IllegalStateException("boom"),
                    Field.of("endpoint", "a/b/c")));
    assertThat(out).hasSize(1);
    assertThat(out.get(0).strip()).doesNotContain("\n");
    JsonNode n = JSON.readTree(out.get(0));
    assertThat(n.get("level").asText()).isEqualTo("ERROR");
    assertThat(n.get("exception").asText()).isEqualTo("java.lang.IllegalStateException: boom");
    assertThat(n.get("stack").asText()).contains("LoggingTest");
    assertThat(n.get("endpoint").asText()).isEqualTo("a/b/c");
  }

  @Test
  void otherLibrariesRecordsAreFilledInAndBelowTheLevelNothingIsWritten() throws IOException {
    Logging.configure("warn", Logging.Format.JSON);
    List<String> out =
        lines(
            () -> {
              logger.log(Level.WARNING, "server {0} gone", "n1");
              logger.info("not written at warn");
            });
    assertThat(out).hasSize(1);
    assertThat(JSON.readTree(out.get(0)).get("message").asText()).isEqualTo("server n1 gone");
  }

  @Test
  void textKeepsTheMessageAsWritten() {
    Logging.configure("info", Logging.Format.TEXT);
    List<String> out =
        lines(() -> Log.log(logger, Level.INFO, "joined {0}", Field.of("worker_id", 3)));
    assertThat(out).singleElement().asString().matches("\\S+Z INFO  Unit: joined \\{0}\n");
  }

  @Test
  void theFormatComesFromTheFlagThenDynamosVariable() {
    assertThat(Logging.Format.choose(null, Map.of())).isEqualTo(Logging.Format.TEXT);
    assertThat(Logging.Format.choose(null, Map.of("DYN_LOGGING_JSONL", "1")))
        .isEqualTo(Logging.Format.JSON);
    assertThat(Logging.Format.choose(null, Map.of("DYN_LOGGING_JSONL", "true")))
        .isEqualTo(Logging.Format.JSON);
    assertThat(Logging.Format.choose(null, Map.of("DYN_LOGGING_JSONL", "0")))
        .isEqualTo(Logging.Format.TEXT);
    assertThat(Logging.Format.choose("text", Map.of("DYN_LOGGING_JSONL", "1")))
        .isEqualTo(Logging.Format.TEXT);
    assertThat(Logging.Format.choose("JSON", Map.of())).isEqualTo(Logging.Format.JSON);
    assertThatThrownBy(() -> Logging.Format.choose("yaml", Map.of()))
        .hasMessage("unknown log format 'yaml' (expected text or json)");
  }

  @Test
  void aFieldCannotTakeAKeyEveryLineHas() {
    assertThatThrownBy(() -> Field.of("message", "x")).hasMessageContaining("'message'");
    assertThatThrownBy(() -> Field.of("stack", "x")).hasMessageContaining("'stack'");
  }

  @Test
  void userErrorsFollowTheFormat() throws IOException {
    Logging.configure("info", Logging.Format.TEXT);
    assertThat(Logging.userErrorLine("--port must be a number"))
        .isEqualTo("dynamo-metrics: --port must be a number");
    Logging.configure("info", Logging.Format.JSON);
    JsonNode n = JSON.readTree(Logging.userErrorLine("--port must be a number"));
    assertThat(n.get("level").asText()).isEqualTo("ERROR");
    assertThat(n.get("message").asText()).isEqualTo("--port must be a number");
  }
}
