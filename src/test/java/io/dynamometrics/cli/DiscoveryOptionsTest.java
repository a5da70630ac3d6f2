package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** How the discovery backend is chosen, and each user mistake named in one line. */
class DiscoveryOptionsTest {
  private static DiscoveryOptions parse(String... args) {
    DiscoveryOptions o = new DiscoveryOptions();
    new CommandLine(o).parseArgs(args);
    return o;
  }

  @Test
  void theFlagOrDynamosOwnVariableChoosesKubernetes() {
    assertThat(parse("--discovery", "kubernetes").backend(false, Map.of()))
        .isEqualTo(DiscoveryOptions.Backend.KUBERNETES);
    assertThat(parse().backend(false, Map.of("DYN_DISCOVERY_BACKEND", "kubernetes")))
        .isEqualTo(DiscoveryOptions.Backend.KUBERNETES);
    // Dynamo's default backend name leaves the choice to the flags, as before
    assertThat(parse().backend(false, Map.of("DYN_DISCOVERY_BACKEND", "kv_store"))).isNull();
    assertThat(parse().backend(true, Map.of())).isEqualTo(DiscoveryOptions.Backend.ETCD);
    assertThat(parse("--discovery", "etcd").backend(false, Map.of()))
        .isEqualTo(DiscoveryOptions.Backend.ETCD);
    assertThat(parse().backend(false, Map.of())).isNull();
  }

  @Test
  void mistakesAreNamed() {
    assertThatThrownBy(() -> parse("--discovery", "consul").backend(false, Map.of()))
        .isInstanceOf(UserError.class)
        .hasMessage("--discovery must be 'etcd' or 'kubernetes', got 'consul'");
    assertThatThrownBy(() -> parse("--discovery", "kubernetes").backend(true, Map.of()))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("--etcd and Kubernetes discovery (--discovery kubernetes) exclude");
    assertThatThrownBy(() -> parse().backend(true, Map.of("DYN_DISCOVERY_BACKEND", "kubernetes")))
        .hasMessageContaining("(DYN_DISCOVERY_BACKEND=kubernetes) exclude");
    assertThatThrownBy(() -> parse("--kube-namespace", "dynamo").backend(false, Map.of()))
        .hasMessage("--kube-namespace needs --discovery kubernetes");
  }

  @Test
  void theLeaseIsNamedByTheFlagOrAfterTheDynamoNamespace() {
    assertThat(parse().lease("dynamo")).isEqualTo("dynamo-metrics-dynamo");
    // Dynamo namespaces may hold what an object name may not
    assertThat(parse().lease("My_NS.")).isEqualTo("dynamo-metrics-my-ns");
    assertThat(parse("--kube-lease", "fleet-a").lease("dynamo")).isEqualTo("fleet-a");
    parse("--kube-lease", "fleet-a").checkLease(true, DiscoveryOptions.Backend.KUBERNETES);
  }

  @Test
  void aLeaseWithoutItsElectionOrWithABadNameIsRefused() {
    assertThatThrownBy(
            () -> parse("--kube-lease", "x").checkLease(false, DiscoveryOptions.Backend.KUBERNETES))
        .isInstanceOf(UserError.class)
        .hasMessage("--kube-lease needs --discovery kubernetes and --standby");
    assertThatThrownBy(
            () -> parse("--kube-lease", "x").checkLease(true, DiscoveryOptions.Backend.ETCD))
        .hasMessage("--kube-lease needs --discovery kubernetes and --standby");
    assertThatThrownBy(
            () ->
                parse("--kube-lease", "Fleet_A")
                    .checkLease(true, DiscoveryOptions.Backend.KUBERNETES))
        .hasMessageStartingWith("--kube-lease 'Fleet_A' is not a Kubernetes object name");
  }

  @Test
  void withoutAClusterOrKubeconfigTheServiceSaysSo(@TempDir Path dir) throws Exception {
    String home = System.getProperty("user.home");
    System.setProperty("user.home", dir.toString());
    try {
      assertThatThrownBy(() -> parse("--discovery", "kubernetes").client(Map.of()))
          .isInstanceOf(UserError.class)
          .hasMessageStartingWith("Kubernetes discovery needs a cluster to talk to")
          .hasMessageContaining("set KUBECONFIG");
      Path missing = dir.resolve("nope");
      assertThatThrownBy(() -> parse().client(Map.of("KUBECONFIG", missing.toString())))
          .hasMessage("KUBECONFIG names " + missing + ", which cannot be read");
      Path config = Files.writeString(dir.resolve("config"), KUBECONFIG);
      try (var client = parse().client(Map.of("KUBECONFIG", config.toString()))) {
        // the context's namespace, unless the flag names others
        assertThat(parse().namespaces(client)).isEqualTo(List.of("dynamo"));
        assertThat(parse("--kube-namespace", "a,b", "--kube-namespace", "*").namespaces(client))
            .containsExactly("a", "b", "*");
        assertThatThrownBy(() -> parse("--kube-namespace", "Dynamo_1").namespaces(client))
            .hasMessage("--kube-namespace 'Dynamo_1' is not a Kubernetes namespace name (nor '*')");
      }
    } finally {
      System.setProperty("user.home", home);
    }
  }

  private static final String KUBECONFIG =
      """
      apiVersion: v1
      kind: Config
      clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]
      users: [{name: u, user: {token: t}}]
      contexts: [{name: x, context: {cluster: c, user: u, namespace: dynamo}}]
      current-context: x
      """;
}
