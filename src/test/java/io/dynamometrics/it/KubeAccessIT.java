package io.dynamometrics.it;

import static io.dynamometrics.it.PushedLoadIT.sum;
import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.bench.KubeControlPlane;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kubernetes discovery without the permissions it needs, against a real kube-apiserver with RBAC:
 * the service stays up, says on {@code /readyz} and once in its log which verb on which resource to
 * grant, and counts the refusals.
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
    String readyz =
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(200))
            .ignoreExceptionsInstanceOf(java.io.IOException.class)
            .until(
                () -> Jar.get(port, "/readyz"),
                r -> r.statusCode() == 503 && r.body().contains("forbidden"))
            .body();
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
    String log = java.nio.file.Files.readString(Jar.LOGS.resolve("k8s/service-forbidden.log"));
    assertThat(log).contains("cannot list dynamoworkermetadatas.nvidia.com in namespace default");
    // once per failure, not once per retry
    assertThat(log.split("cannot list dynamoworkermetadatas", -1)).hasSizeLessThanOrEqualTo(2);
    assertThat(log).doesNotContain("\tat io.fabric8");
  }
}
