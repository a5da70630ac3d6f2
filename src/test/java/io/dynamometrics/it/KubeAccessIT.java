package io.dynamometrics.it;

import static io.dynamometrics.it.PushedLoadIT.sum;
import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.bench.KubeControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user meets when Kubernetes discovery cannot work, against a real kube-apiserver with RBAC:
 * no permission, the CRD not installed (then installed), the API server out of reach. Each time the
 * service stays up, says on {@code /readyz} what is wrong and what to do, logs it once and counts
 * it.
 */
class KubeAccessIT {
  @RegisterExtension final Started started = new Started();

  /** Without permission, the service says which verb on which resource, and is not ready. */
  @Test
  void aServiceAccountWithoutPermissionIsToldWhatToGrant() throws Exception {
    KubeControlPlane kube = started.server(new KubeControlPlane(Jar.LOGS));
    Servers.Nats nats = started.server(Servers.Nats.modern(Jar.LOGS));
    int port = Servers.freePort();
    Process p =
        started.jar(
            "k8s/service-forbidden",
            Map.of("KUBECONFIG", kube.kubeconfig("nobody").toString()),
            Jar.serving(nats.url(), port, "--namespace", "dyn", "--discovery", "kubernetes"));
    String readyz = notReady(port, "forbidden");
    assertThat(readyz)
        .contains("not ready")
        .contains("cannot list resource \"dynamoworkermetadatas\"")
        .contains("get, list and watch on dynamoworkermetadatas.nvidia.com in namespace default");
    String metrics = Jar.get(port, "/metrics").body();
    assertThat(sum(metrics, "dynamo_metrics_kubernetes_watch_up")).isZero();
    assertThat(
            sum(metrics, "dynamo_metrics_kubernetes_watch_failures_total", "reason", "forbidden"))
        .isPositive();
    assertThat(p.isAlive()).isTrue();
    String log = Files.readString(Jar.LOGS.resolve("k8s/service-forbidden.log"));
    assertThat(log).contains("cannot list dynamoworkermetadatas.nvidia.com in namespace default");
    // once per failure, not once per retry
    assertThat(log.split("cannot list dynamoworkermetadatas", -1)).hasSizeLessThanOrEqualTo(2);
    assertThat(log).doesNotContain("\tat io.fabric8");
  }

  /** Before the Dynamo operator installed its CRD: named, then followed once it is there. */
  @Test
  void aMissingCrdIsNamedAndItsInstallFollowed() throws Exception {
    KubeControlPlane kube = started.server(new KubeControlPlane(Jar.LOGS, false, false));
    Servers.Nats nats = started.server(Servers.Nats.modern(Jar.LOGS));
    int port = Servers.freePort();
    started.jar(
        "k8s/service-no-crd",
        Map.of("KUBECONFIG", kube.kubeconfig("admin").toString()),
        Jar.serving(nats.url(), port, "--namespace", "dyn", "--discovery", "kubernetes"));
    assertThat(notReady(port, "CRD is not installed"))
        .contains("dynamoworkermetadatas.nvidia.com in namespace default")
        .contains("does not serve dynamoworkermetadatas.nvidia.com/v1alpha1 (404)");
    assertThat(
            sum(
                Jar.get(port, "/metrics").body(),
                "dynamo_metrics_kubernetes_watch_failures_total",
                "reason",
                "not_found"))
        .isPositive();
    kube.installCrd();
    Jar.await(port, "/readyz", r -> r.equals("ready\n"), Duration.ofSeconds(60));
    Jar.await(
        port,
        "/metrics",
        m -> sum(m, "dynamo_metrics_kubernetes_watch_up") == 2,
        Duration.ofSeconds(10));
    assertThat(Files.readString(Jar.LOGS.resolve("k8s/service-no-crd.log")))
        .contains("watching dynamoworkermetadatas.nvidia.com in namespace default again");
  }

  /** An API server out of reach is named, and the service keeps serving its own health. */
  @Test
  void anUnreachableApiServerIsNamed(@TempDir Path dir) throws Exception {
    Servers.Nats nats = started.server(Servers.Nats.modern(Jar.LOGS));
    int closed = Servers.freePort();
    Path config =
        Files.writeString(
            dir.resolve("kubeconfig"),
            String.join(
                "\n",
                "apiVersion: v1",
                "kind: Config",
                "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:"
                    + closed
                    + "',"
                    + " insecure-skip-tls-verify: true}}]",
                "users: [{name: u, user: {token: t}}]",
                "contexts: [{name: x, context: {cluster: c, user: u, namespace: dynamo}}]",
                "current-context: x",
                ""));
    int port = Servers.freePort();
    Process p =
        started.jar(
            "k8s/service-unreachable",
            Map.of("KUBECONFIG", config.toString()),
            Jar.serving(nats.url(), port, "--namespace", "dyn", "--discovery", "kubernetes"));
    assertThat(notReady(port, "cannot reach the API server"))
        .contains("https://127.0.0.1:" + closed + "/ (connection refused)")
        .contains("in namespace dynamo"); // the context's namespace
    assertThat(
            sum(
                Jar.get(port, "/metrics").body(),
                "dynamo_metrics_kubernetes_watch_failures_total",
                "reason",
                "unreachable"))
        .isPositive();
    assertThat(Jar.get(port, "/healthz").statusCode()).isEqualTo(200);
    assertThat(p.isAlive()).isTrue();
  }

  /** The body of {@code /readyz} once it answers 503 mentioning {@code reason}. */
  private static String notReady(int port, String reason) {
    return org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptionsInstanceOf(java.io.IOException.class)
        .until(
            () -> Jar.get(port, "/readyz"), r -> r.statusCode() == 503 && r.body().contains(reason))
        .body();
  }
}
