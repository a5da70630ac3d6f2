package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.bench.Bench;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A few seconds of the load harness, so that it cannot rot. No timing is asserted. */
class BenchSmokeIT {
  @Test
  void theHarnessMeasuresASmallFleetAndAFloodAndWritesItsResults() throws Exception {
    Path out = Path.of("target/bench-smoke");
    // as bin/bench runs it: the harness from the test classes, measuring the product jar
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dbench.jar=target/dynamo-metrics.jar",
                "-cp",
                System.getProperty("java.class.path"),
                Bench.class.getName(),
                "--workers",
                "5,20",
                "--seconds",
                "2",
                "--ingest-seconds",
                "1",
                "--out",
                out.toString())
            .redirectErrorStream(true)
            .redirectOutput(Jar.LOGS.resolve("bench-smoke.log").toFile())
            .start();
    assertThat(p.waitFor(240, TimeUnit.SECONDS)).as("finished").isTrue();
    String log = Files.readString(Jar.LOGS.resolve("bench-smoke.log"));
    assertThat(p.exitValue()).as(log).isZero();
    JsonNode load = new ObjectMapper().readTree(out.resolve("load.json").toFile());
    assertThat(load.path("runs")).hasSize(2);
    for (JsonNode run : load.path("runs")) {
      assertThat(run.path("polls").asInt()).isPositive();
      assertThat(run.path("completeShare").asDouble())
          .as("every poll gathered every worker")
          .isEqualTo(1.0);
      assertThat(run.path("lingerMedianMs").asDouble(-1))
          .as("time from the last reply to the gather's end, as the service reports it")
          .isGreaterThanOrEqualTo(0);
    }
    JsonNode ingest = new ObjectMapper().readTree(out.resolve("ingest.json").toFile());
    assertThat(ingest.path("sent").asLong()).isPositive();
    assertThat(ingest.path("bareReceived").asLong()).isEqualTo(ingest.path("sent").asLong());
    assertThat(ingest.path("accepted").asLong() + ingest.path("droppedByAggregator").asLong())
        .as("every event is either accepted or counted as dropped")
        .isEqualTo(ingest.path("sent").asLong());
    assertThat(Files.readString(out.resolve("load.svg")))
        .startsWith("<svg")
        .contains("workers (log scale)");
  }
}
