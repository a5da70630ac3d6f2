package io.dynamometrics.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.dynamometrics.it.Jar;
import io.dynamometrics.it.Servers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Helm chart, checked by the real helm (lint, schema, template) and by strict decoding of every
 * rendered object into the Kubernetes and Prometheus Operator API types (src/test/go/kubecheck);
 * its rules and dashboards are deploy/'s; its Deployment's flags start the real service.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HelmChartIT {
  private static final Path CHART = Path.of("deploy/helm/dynamo-metrics");
  private static final Path TWO_TARGETS = CHART.resolve("ci/two-targets-tls-values.yaml");
  private static final Path KUBERNETES = CHART.resolve("ci/kubernetes-discovery-values.yaml");
  private static final Path TOOLS = Path.of("target/tools/bin");
  private static final YAMLMapper YAML = new YAMLMapper();

  private String helm;
  private String kubecheck;

  private record Run(int exit, String output) {}

  @BeforeAll
  void tools() {
    helm = TOOLS.resolve("helm").toString();
    kubecheck = TOOLS.resolve("kubecheck").toString();
    assertThat(Path.of(helm)).as("built by bin/go-tools (bin/test runs it)").isExecutable();
    assertThat(Path.of(kubecheck)).as("built by bin/go-tools (bin/test runs it)").isExecutable();
  }

  private static Run exec(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    // helm notes each symbolic link it follows (files/ links to deploy/); that is not output
    String kept =
        out.lines()
            .filter(l -> !l.matches("walk\\.go:\\d+: found symbolic link in path: .*"))
            .reduce("", (a, b) -> a + b + "\n");
    return new Run(p.exitValue(), kept);
  }

  private static String ok(String... command) throws Exception {
    Run r = exec(command);
    assertThat(r.exit()).as(String.join(" ", command) + "\n" + r.output()).isZero();
    return r.output();
  }

  private String template(String... more) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(helm, "template", "dm", CHART.toString()));
    cmd.addAll(List.of(more));
    return ok(cmd.toArray(String[]::new));
  }

  private static List<JsonNode> objects(String manifests) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (var it = YAML.readValues(new YAMLFactory().createParser(manifests), JsonNode.class)) {
      while (it.hasNext()) {
        JsonNode n = it.next();
        if (n != null && !n.isNull() && !n.isEmpty()) {
          out.add(n);
        }
      }
    }
    return out;
  }

  private static List<JsonNode> ofKind(List<JsonNode> objects, String kind) {
    return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
  }

  @Test
  void helmLintStrictPassesOnTheDefaultsAndTheTwoTargetValues() throws Exception {
    assertThat(ok(helm, "lint", "--strict", CHART.toString())).contains("0 chart(s) failed");
    assertThat(ok(helm, "lint", "--strict", CHART.toString(), "-f", TWO_TARGETS.toString()))
        .contains("0 chart(s) failed");
    assertThat(ok(helm, "lint", "--strict", CHART.toString(), "-f", KUBERNETES.toString()))
        .contains("0 chart(s) failed");
  }

  @Test
  void everyRenderedObjectDecodesStrictlyIntoItsApiType(@TempDir Path dir) throws Exception {
    Path defaults = Files.writeString(dir.resolve("defaults.yaml"), template());
    Path two = Files.writeString(dir.resolve("two.yaml"), template("-f", TWO_TARGETS.toString()));
    Path kube = Files.writeString(dir.resolve("kube.yaml"), template("-f", KUBERNETES.toString()));
    String checked = ok(kubecheck, defaults.toString(), two.toString(), kube.toString());
    assertThat(checked.lines().filter(l -> l.startsWith("ok ")).count())
        .isEqualTo(
            objects(Files.readString(defaults)).size()
                + objects(Files.readString(two)).size()
                + objects(Files.readString(kube)).size());
    // the checker refuses what the API server would: a field the type does not have
    Path typo =
        Files.writeString(
            dir.resolve("typo.yaml"),
            Files.readString(defaults)
                .replace("revisionHistoryLimit: 3", "revisionHistoryLimt: 3"));
    Run bad = exec(kubecheck, typo.toString());
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.output())
        .contains("Deployment")
        .contains("unknown field \"revisionHistoryLimt\"");
  }

  @Test
  void aTypoInValuesFailsTheInstallNamingIt() throws Exception {
    refused("replica=3", "additional properties 'replica' not allowed");
    refused("log.format=xml", "at '/log/format': value must be one of 'json', 'text'");
    refused("nats.servers[0]=nats://u:pw@nats:4222", "at '/nats/servers/0'");
    refused("etcd.enabled=false", "replicas > 1 needs etcd.enabled or kubernetesDiscovery.enabled");
    refused("kubernetesDiscovery.enabled=true", "exclude each other");
    refused("kubernetesDiscovery.namespaces[0]=Dynamo", "at '/kubernetesDiscovery/namespaces/0'");
    refused("targets[0].name=a,targets[0].component=X", "targets[a]: component without endpoint");
  }

  /** {@code helm template} with {@code --set set} fails, saying {@code message}. */
  private void refused(String set, String message) throws Exception {
    Run r = exec(helm, "template", "dm", CHART.toString(), "--set", set);
    assertThat(r.exit()).as(set).isNotZero();
    assertThat(r.output()).as(set).contains(message);
  }

  @Test
  void thePrometheusRuleIsDeploysAlertsAndPassesPromtool(@TempDir Path dir) throws Exception {
    List<JsonNode> rules = ofKind(objects(template()), "PrometheusRule");
    assertThat(rules).hasSize(1);
    JsonNode spec = rules.get(0).path("spec");
    assertThat(spec).isEqualTo(YAML.readTree(Path.of("deploy/prometheus/alerts.yml").toFile()));
    // promtool reads the rendered groups, and every alert unit test runs against them
    Path rendered = dir.resolve("rendered-alerts.yml");
    YAML.writeValue(rendered.toFile(), spec);
    String promtool = Servers.binary("promtool");
    assertThat(ok(promtool, "check", "rules", rendered.toString())).contains("SUCCESS");
    ObjectNode tests =
        (ObjectNode) YAML.readTree(Path.of("deploy/prometheus/tests/alerts_test.yml").toFile());
    tests.putArray("rule_files").add(rendered.toString());
    Path testFile = dir.resolve("alerts_test.yml");
    YAML.writeValue(testFile.toFile(), tests);
    assertThat(ok(promtool, "test", "rules", testFile.toString())).contains("SUCCESS");
  }

  @Test
  void theDashboardConfigMapsAreDeploysDashboards() throws Exception {
    List<JsonNode> maps = ofKind(objects(template("-f", TWO_TARGETS.toString())), "ConfigMap");
    Map<String, String> byFile = new HashMap<>();
    for (JsonNode m : maps) {
      assertThat(m.path("metadata").path("labels").path("grafana_dashboard").asText())
          .isEqualTo("1");
      assertThat(m.path("metadata").path("annotations").path("grafana_folder").asText())
          .isEqualTo("Dynamo");
      m.path("data").properties().forEach(e -> byFile.put(e.getKey(), e.getValue().asText()));
    }
    Set<String> files = new TreeSet<>();
    try (Stream<Path> s = Files.list(Path.of("deploy/grafana/dashboards"))) {
      for (Path p : s.filter(p -> p.toString().endsWith(".json")).toList()) {
        files.add(p.getFileName().toString());
        assertThat(byFile.get(p.getFileName().toString()))
            .as(p.toString())
            .isEqualTo(Files.readString(p).stripTrailing());
      }
    }
    assertThat(byFile.keySet()).isEqualTo(files).hasSize(4);
  }

  @Test
  void kubernetesDiscoveryGetsReadOnlyAccessToTwoResourcesInEachWatchedNamespaceAndALease()
      throws Exception {
    List<JsonNode> all = objects(template("-n", "monitoring", "-f", KUBERNETES.toString()));
    List<JsonNode> roles =
        ofKind(all, "Role").stream()
            .filter(r -> r.path("metadata").path("name").asText().endsWith("-discovery"))
            .toList();
    assertThat(roles)
        .extracting(r -> r.path("metadata").path("namespace").asText())
        .containsExactly("dynamo", "dynamo-canary");
    // the replicas' election: one Lease per target, in the release's namespace
    List<JsonNode> election =
        ofKind(all, "Role").stream()
            .filter(r -> r.path("metadata").path("name").asText().endsWith("-election"))
            .toList();
    assertThat(election).hasSize(1);
    assertThat(election.get(0).path("metadata").path("namespace").asText()).isEqualTo("monitoring");
    assertThat(election.get(0).path("rules").toString())
        .isEqualTo(
            "[{\"apiGroups\":[\"coordination.k8s.io\"],\"resources\":[\"leases\"],"
                + "\"verbs\":[\"create\"]},"
                + "{\"apiGroups\":[\"coordination.k8s.io\"],\"resources\":[\"leases\"],"
                + "\"resourceNames\":[\"dm-dynamo-metrics-fleet\"],\"verbs\":[\"get\",\"update\"]}]");
    assertThat(ofKind(all, "RoleBinding")).hasSize(3);
    for (JsonNode role : roles) {
      assertThat(role.path("rules").toString())
          .isEqualTo(
              "[{\"apiGroups\":[\"nvidia.com\"],\"resources\":[\"dynamoworkermetadatas\"],"
                  + "\"verbs\":[\"get\",\"list\",\"watch\"]},"
                  + "{\"apiGroups\":[\"discovery.k8s.io\"],\"resources\":[\"endpointslices\"],"
                  + "\"verbs\":[\"get\",\"list\",\"watch\"]}]");
    }
    assertThat(ofKind(all, "ClusterRole")).isEmpty();
    for (JsonNode binding : ofKind(all, "RoleBinding")) {
      assertThat(binding.path("subjects").toString())
          .isEqualTo(
              "[{\"kind\":\"ServiceAccount\",\"name\":\"dm-dynamo-metrics\","
                  + "\"namespace\":\"monitoring\"}]");
    }
    JsonNode pod = ofKind(all, "Deployment").get(0).path("spec").path("template").path("spec");
    assertThat(pod.path("automountServiceAccountToken").asBoolean()).isTrue();
    List<String> args =
        YAML.convertValue(
            pod.path("containers").get(0).path("args"),
            YAML.getTypeFactory().constructCollectionType(List.class, String.class));
    assertThat(args)
        .contains(
            "--discovery=kubernetes",
            "--kube-namespace=dynamo,dynamo-canary",
            "--standby",
            "--kube-lease=dm-dynamo-metrics-fleet")
        .noneMatch(a -> a.startsWith("--etcd"));
    assertThat(ofKind(all, "Deployment").get(0).path("spec").path("replicas").asInt()).isEqualTo(2);
    // without the option, no role, and no token in the pod
    assertThat(ofKind(objects(template()), "Role")).isEmpty();
  }

  @Test
  void eachTargetIsAHardenedActiveStandbyPairWithSecretsOnlyByReference() throws Exception {
    List<JsonNode> all = objects(template("-f", TWO_TARGETS.toString()));
    List<JsonNode> deployments = ofKind(all, "Deployment");
    assertThat(deployments).hasSize(2);
    assertThat(ofKind(all, "PodDisruptionBudget")).hasSize(2);
    assertThat(ofKind(all, "Service")).hasSize(2);
    Set<String> claims = new TreeSet<>();
    for (JsonNode d : deployments) {
      assertThat(d.path("spec").path("replicas").asInt()).isEqualTo(2);
      JsonNode pod = d.path("spec").path("template").path("spec");
      assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
      assertThat(pod.path("securityContext").path("seccompProfile").path("type").asText())
          .isEqualTo("RuntimeDefault");
      assertThat(pod.path("automountServiceAccountToken").asBoolean(true)).isFalse();
      JsonNode c = pod.path("containers").get(0);
      JsonNode sc = c.path("securityContext");
      assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).isTrue();
      assertThat(sc.path("allowPrivilegeEscalation").asBoolean(true)).isFalse();
      assertThat(sc.path("capabilities").path("drop").toString()).isEqualTo("[\"ALL\"]");
      assertThat(c.path("resources").path("limits").path("memory").asText()).isNotEmpty();
      List<String> args =
          YAML.convertValue(
              c.path("args"),
              YAML.getTypeFactory().constructCollectionType(List.class, String.class));
      assertThat(args).contains("--etcd", "--standby", "--log-format=json");
      args.stream().filter(a -> a.startsWith("--etcd-claim=")).forEach(claims::add);
      for (JsonNode env : c.path("env")) {
        String name = env.path("name").asText();
        if (name.matches(".*(PASSWORD|TOKEN|NKEY|USERNAME)$")) {
          assertThat(env.has("value")).as(name + " must come from a Secret").isFalse();
        }
      }
    }
    assertThat(claims)
        .containsExactly(
            "--etcd-claim=dynamo-metrics/prod/sglang/leader",
            "--etcd-claim=dynamo-metrics/prod/vllm/leader");
    JsonNode monitor = ofKind(all, "ServiceMonitor").get(0);
    assertThat(monitor.path("spec").path("jobLabel").asText()).isEqualTo("app.kubernetes.io/name");
    assertThat(monitor.path("metadata").path("labels").path("release").asText())
        .isEqualTo("kube-prometheus-stack");
    List<JsonNode> policies = ofKind(all, "NetworkPolicy");
    assertThat(policies).hasSize(2);
    // the workers' ZMQ publishers admit this service, and only it, on their TCP ports
    JsonNode events = policies.get(1);
    assertThat(events.path("metadata").path("namespace").asText()).isEqualTo("dynamo");
    assertThat(events.path("spec").path("podSelector").toString())
        .isEqualTo("{\"matchLabels\":{\"nvidia.com/dynamo-component-type\":\"worker\"}}");
    JsonNode rule = events.path("spec").path("ingress").get(0);
    assertThat(rule.path("ports").toString()).isEqualTo("[{\"protocol\":\"TCP\"}]");
    assertThat(rule.path("from").get(0).path("podSelector").path("matchLabels").toString())
        .contains("app.kubernetes.io/name");
  }

  @Test
  void theDefaultDeploymentsFlagsAndEnvironmentStartTheRealService() throws Exception {
    JsonNode c =
        ofKind(objects(template()), "Deployment")
            .get(0)
            .path("spec")
            .path("template")
            .path("spec")
            .path("containers")
            .get(0);
    try (Servers.Nats nats = new Servers.Nats(Jar.LOGS);
        Servers.Etcd etcd = new Servers.Etcd(Jar.LOGS)) {
      int port = Servers.freePort();
      List<String> args = new ArrayList<>();
      for (JsonNode a : c.path("args")) {
        String arg = a.asText();
        if (arg.startsWith("--nats-server=")) {
          arg = "--nats-server=" + nats.url();
        } else if (arg.startsWith("--port=")) {
          arg = "--port=" + port;
        }
        args.add(arg);
      }
      args.add("--host=127.0.0.1");
      Map<String, String> env = new HashMap<>();
      for (JsonNode e : c.path("env")) {
        env.put(e.path("name").asText(), e.path("value").asText());
      }
      assertThat(env).containsKey("ETCD_ENDPOINTS");
      env.put("ETCD_ENDPOINTS", etcd.url());
      Process p = Jar.start("helm-default-args", env, args.toArray(String[]::new));
      try {
        Jar.await(port, "/readyz", b -> true, Duration.ofSeconds(30));
        assertThat(Jar.get(port, "/metrics").body()).contains("dynamo_metrics_leader 1");
      } finally {
        Servers.stop(p, Duration.ofSeconds(10));
      }
    }
  }
}
