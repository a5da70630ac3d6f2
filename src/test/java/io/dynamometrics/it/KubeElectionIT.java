package io.dynamometrics.it;

import static io.dynamometrics.it.PushedLoadIT.sum;
import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.bench.KubeControlPlane;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Replicas under Kubernetes discovery elect one leader through a Lease, on a real kube-apiserver
 * with exactly the Helm chart's permissions: one leads and the other stands by; a clean stop hands
 * over at once, a crash once the Lease runs out; an account without the Lease is told what to
 * grant.
 */
class KubeElectionIT {
  private static final String LEASE = "dm-dynamo-metrics-fleet";
  private static final Pattern LEADING =
      Pattern.compile("leading: holds the Lease default/" + LEASE + " as (\\S+)");

  @RegisterExtension final Started started = new Started();

  private Process replica(String log, Path kubeconfig, String nats, int port) throws Exception {
    return started.jar(
        log,
        Map.of("KUBECONFIG", kubeconfig.toString()),
        Jar.serving(
            nats,
            port,
            "--namespace",
            "dyn",
            "--discovery",
            "kubernetes",
            "--standby",
            "--kube-lease",
            LEASE));
  }

  private static double leader(int port) throws Exception {
    return sum(Jar.get(port, "/metrics").body(), "dynamo_metrics_leader");
  }

  private static void awaitLeader(int port, double value, Duration within) {
    Jar.await(port, "/metrics", m -> sum(m, "dynamo_metrics_leader") == value, within);
  }

  /** The identity a replica leads under, from its log (the line may follow the gauge). */
  private static String identity(String log) {
    Path file = Jar.LOGS.resolve(log + ".log");
    Matcher m =
        Awaitility.await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> LEADING.matcher(Files.readString(file)), Matcher::find);
    return m.group(1);
  }

  private static String holder(KubeControlPlane kube) {
    Lease l = kube.admin.leases().inNamespace(KubeControlPlane.NAMESPACE).withName(LEASE).get();
    return l == null ? null : l.getSpec().getHolderIdentity();
  }

  @Test
  void oneReplicaLeadsAndAnotherTakesOverOnAStopOrACrash() throws Exception {
    KubeControlPlane kube = started.server(new KubeControlPlane(Jar.LOGS, false, true));
    Servers.Nats nats = started.server(Servers.Nats.modern(Jar.LOGS));
    Path chart = kube.chartAccount();

    int portA = Servers.freePort();
    Process a = replica("k8s/election-a", chart, nats.url(), portA);
    awaitLeader(portA, 1, Duration.ofSeconds(60));
    String idA = identity("k8s/election-a");
    assertThat(holder(kube)).isEqualTo(idA);

    int portB = Servers.freePort();
    Process b = replica("k8s/election-b", chart, nats.url(), portB);
    Jar.await(portB, "/metrics", m -> m.contains("dynamo_metrics_leader"), Duration.ofSeconds(60));
    // B has seen the Lease held: it says so, and exports no fleet
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                Files.readString(Jar.LOGS.resolve("k8s/election-b.log"))
                    .contains("standing by: " + idA + " holds the Lease default/" + LEASE));
    assertThat(leader(portB)).isZero();
    assertThat(leader(portA)).isEqualTo(1);
    // a standby is ready once its first poll is done: the chart's rollout waits for that
    Jar.await(portB, "/readyz", r -> r.equals("ready\n"), Duration.ofSeconds(30));

    // a clean stop gives the Lease up: B leads at its next round (2 s), where a Lease left held
    // would keep it waiting 15 s
    a.destroy();
    awaitLeader(portB, 1, Duration.ofSeconds(12));
    assertThat(a.waitFor(10, TimeUnit.SECONDS)).isTrue();
    // logged while stopping, after the JVM's shutdown began
    assertThat(Files.readString(Jar.LOGS.resolve("k8s/election-a.log")))
        .contains("gave up the Lease default/" + LEASE);
    String idB = identity("k8s/election-b");
    assertThat(holder(kube)).isEqualTo(idB);

    // a crash leaves the Lease held: C takes over once it has not changed for the Lease's 15 s
    int portC = Servers.freePort();
    replica("k8s/election-c", chart, nats.url(), portC);
    Jar.await(portC, "/metrics", m -> m.contains("dynamo_metrics_leader"), Duration.ofSeconds(60));
    assertThat(leader(portC)).isZero();
    b.destroyForcibly().waitFor();
    long crashed = System.nanoTime();
    awaitLeader(portC, 1, Duration.ofSeconds(40));
    assertThat(Duration.ofNanos(System.nanoTime() - crashed))
        .as("not before the Lease could have run out")
        .isGreaterThan(Duration.ofSeconds(10));
    String idC = identity("k8s/election-c");
    assertThat(holder(kube)).isEqualTo(idC);
    assertThat(
            kube.admin
                .leases()
                .inNamespace(KubeControlPlane.NAMESPACE)
                .withName(LEASE)
                .get()
                .getSpec()
                .getLeaseTransitions())
        .isEqualTo(2);
  }

  /** An account that may not use the Lease: one line naming what to grant, exit code 2. */
  @Test
  void anAccountWithoutTheLeaseIsToldWhatToGrant() throws Exception {
    KubeControlPlane kube = started.server(new KubeControlPlane(Jar.LOGS, false, true));
    Servers.Nats nats = started.server(Servers.Nats.modern(Jar.LOGS));
    Process p =
        replica(
            "k8s/election-forbidden", kube.kubeconfig("nobody"), nats.url(), Servers.freePort());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    String log = Files.readString(Jar.LOGS.resolve("k8s/election-forbidden.log"));
    assertThat(log)
        .contains("the leader election cannot use its Lease: forbidden (403)")
        .contains(
            "Grant the service's account get, create and update on leases.coordination.k8s.io"
                + " in namespace default")
        .doesNotContain("\tat ");
  }
}
