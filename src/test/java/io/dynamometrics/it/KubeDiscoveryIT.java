package io.dynamometrics.it;

import static io.dynamometrics.it.PushedLoadIT.load;
import static io.dynamometrics.it.PushedLoadIT.sum;
import static io.dynamometrics.it.PushedLoadIT.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dynamometrics.bench.KubeControlPlane;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Dynamo 1.x as its operator deploys it: real workers with {@code DYN_DISCOVERY_BACKEND=kubernetes}
 * describe themselves to a real kube-apiserver (no etcd keys at all), and the service, with {@code
 * --discovery kubernetes}, finds them there, on both event planes. A worker is served while its pod
 * is ready in the EndpointSlice; it leaves when the pod is marked not ready, when it exits cleanly,
 * when its Pod is deleted (the garbage collector removes its resource), and a change made while the
 * service's watch was broken (API server restarted) is followed once the watch is back.
 */
@ExtendWith(ConformanceTable.class)
class KubeDiscoveryIT {
  /** One release at each end and one where ZMQ became the default. */
  static final List<String> NATS_GROUPS = List.of("1.0.2", "1.6.1");

  static final List<String> ZMQ_GROUPS = List.of("1.3.1", "1.6.1");

  private static final Duration SOON = Duration.ofSeconds(10);

  @RegisterExtension final Started started = new Started();

  static List<String> natsReleases() {
    List<String> all = RealDynamo.PUSHING;
    return RealDynamo.chosen(NATS_GROUPS, all.subList(all.indexOf("1.0.0"), all.size()));
  }

  static List<String> zmqReleases() {
    List<String> all = RealDynamo.PUSHING;
    return RealDynamo.chosen(ZMQ_GROUPS, all.subList(all.indexOf("1.3.0.post1"), all.size()));
  }

  @ParameterizedTest(name = "{0}", allowZeroInvocations = true) // releases a run did not choose
  @MethodSource("natsReleases")
  void kubernetesNats(String v) throws Exception {
    run(v, false);
  }

  @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
  @MethodSource("zmqReleases")
  void kubernetesZmq(String v) throws Exception {
    run(v, true);
  }

  private static boolean atLeast(String v, int major, int minor) {
    String[] p = v.split("\\.");
    int a = Integer.parseInt(p[0]);
    int b = Integer.parseInt(p[1]);
    return a > major || (a == major && b >= minor);
  }

  private void run(String v, boolean zmq) throws Exception {
    Optional<String> missing = RealDynamo.unavailable("runtime", v);
    assumeTrue(missing.isEmpty(), () -> "Dynamo " + v + " cannot run here: " + missing.get());
    KubeControlPlane kube = started.server(new KubeControlPlane(Jar.LOGS));
    Servers.Nats nats = started.server(Servers.Nats.modern(Jar.LOGS));
    String ns = "k8s" + (zmq ? "zmq" : "nats") + v.replaceAll("[^0-9]", "");
    Pod podA = kube.pod("worker-a");
    Pod podB = kube.pod("worker-b");
    Map<Pod, Boolean> ready = new LinkedHashMap<>(Map.of(podA, true));
    ready.put(podB, true);
    kube.slice(ready);

    int port = Servers.freePort();
    started.jar(
        "k8s/service-" + ns,
        Map.of("KUBECONFIG", kube.chartAccount().toString()), // the chart's RBAC, no more
        Jar.serving(nats.url(), port, "--namespace", ns, "--discovery", "kubernetes"));
    PushedLoadIT.Pusher a = started.server(worker(v, kube, podA, nats, ns, zmq));
    PushedLoadIT.Pusher b = started.server(worker(v, kube, podB, nats, ns, zmq));
    // ZMQ keeps nothing for a late subscriber: publish once the service is connected to both
    // workers' publishers (load and forward-pass metrics each)
    int perWorker = zmq ? 2 : 0;
    awaitPublishers(port, 2 * perWorker);
    boolean used = atLeast(v, 1, 1); // kv_used_blocks from 1.1; active_decode_blocks before
    Duration publish = Duration.ofSeconds(10);
    a.send(load(40, 12, 23), publish);
    b.send(load(7, 5, 6), publish);
    double expectA = used ? 23 : 12;
    double expectB = used ? 6 : 5;
    String body = PushedLoadIT.awaitBoth(port, a.id, expectA, b.id, expectB);
    // capacity from the model cards in the resources
    assertThat(value(body, "llm_kv_blocks_total", a.id))
        .contains((double) PushedLoadIT.CARD_BLOCKS);
    assertThat(sum(body, "dynamo_metrics_kubernetes_watch_up")).isEqualTo(2);
    assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(200);
    String intake = zmq ? "\"intake\":\"zmq\"" : "\"intake\":\"nats\"";
    Jar.await(port, "/api/v1/fleet", s -> s.contains(intake), SOON);

    // a pod marked not ready leaves at once, and comes back when ready again
    ready.put(podA, false);
    kube.slice(ready);
    Jar.await(port, "/metrics", m -> value(m, "llm_kv_blocks_active", a.id).isEmpty(), SOON);
    assertThat(value(Jar.get(port, "/metrics").body(), "llm_kv_blocks_active", b.id))
        .contains(expectB);
    awaitPublishers(port, perWorker); // the service let go of a's publishers
    ready.put(podA, true);
    kube.slice(ready);
    awaitPublishers(port, 2 * perWorker);
    a.send(load(41, 13, 24), publish);
    double againA = used ? 24 : 13;
    Jar.await(
        port, "/metrics", m -> value(m, "llm_kv_blocks_active", a.id).orElse(-1.0) == againA, SOON);

    // a clean exit: from 1.4 the worker empties its endpoints (its resource stays) and leaves at
    // once; before, its resource keeps them and it leaves when its pod is no longer ready, as the
    // kubelet reports once the container has exited
    b.stop();
    var resourceB =
        kube.admin
            .genericKubernetesResources("nvidia.com/v1alpha1", "DynamoWorkerMetadata")
            .inNamespace(KubeControlPlane.NAMESPACE)
            .withName("worker-b")
            .get();
    assertThat(resourceB).as("worker b's resource after its clean exit").isNotNull();
    Object endpointsB = ((Map<?, ?>) resourceB.get("spec", "data")).get("endpoints");
    boolean deregisters = endpointsB == null || ((Map<?, ?>) endpointsB).isEmpty();
    if (!deregisters) {
      assertThat(value(Jar.get(port, "/metrics").body(), "llm_kv_blocks_active", b.id))
          .as("a worker whose resource still lists endpoints, with its pod ready")
          .isPresent();
      ready.put(podB, false);
      kube.slice(ready);
    }
    Jar.await(port, "/metrics", m -> value(m, "llm_kv_blocks_active", b.id).isEmpty(), SOON);
    System.out.printf(
        "kubernetes %s: a clean exit %s%n",
        v,
        deregisters
            ? "empties the endpoints"
            : "leaves the endpoints (the pod's readiness ends it)");

    // the watch breaks (the API server restarts); meanwhile pod a is marked not ready through
    // another API server on the same etcd: once the watch is back, a is gone, nothing stale stays
    kube.restartApiServer(
        other -> {
          Map<Pod, Boolean> notA = new LinkedHashMap<>(ready);
          notA.put(podA, false);
          KubeControlPlane.slice(other, "workers", notA);
        });
    Jar.await(
        port,
        "/metrics",
        m -> value(m, "llm_kv_blocks_active", a.id).isEmpty(),
        Duration.ofSeconds(30));
    String recovered =
        Jar.await(
            port,
            "/metrics",
            m -> sum(m, "dynamo_metrics_kubernetes_watch_up") == 2,
            Duration.ofSeconds(30));
    assertThat(sum(recovered, "dynamo_metrics_kubernetes_watch_failures_total")).isPositive();
    Jar.await(port, "/readyz", r -> r.equals("ready\n"), SOON);

    // ready again, then its Pod deleted: the garbage collector deletes the resource it owns
    kube.slice(ready);
    awaitPublishers(port, perWorker); // a's alone: b has exited
    // ZMQ drops what is sent before the new subscription reaches the publisher: send until seen
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofSeconds(2))
        .until(
            () -> {
              a.send(load(42, 14, 25), publish);
              Thread.sleep(1500);
              return value(Jar.get(port, "/metrics").body(), "llm_kv_blocks_active", a.id)
                  .isPresent();
            });
    kube.admin.pods().inNamespace(KubeControlPlane.NAMESPACE).withName("worker-a").delete();
    Jar.await(
        port,
        "/metrics",
        m -> value(m, "llm_kv_blocks_active", a.id).isEmpty() && sum(m, "llm_workers") == 0,
        Duration.ofSeconds(20));
  }

  /** Waits until the service is connected to exactly {@code connected} ZMQ publishers. */
  private static void awaitPublishers(int port, int connected) {
    Jar.await(
        port,
        "/metrics",
        m -> sum(m, "dynamo_metrics_zmq_publishers", "state", "connected") == connected,
        Duration.ofSeconds(20));
  }

  private static PushedLoadIT.Pusher worker(
      String v, KubeControlPlane kube, Pod pod, Servers.Nats nats, String ns, boolean zmq)
      throws Exception {
    Map<String, String> env = new HashMap<>(RealDynamo.env(nats.url(), "http://127.0.0.1:9"));
    env.remove("ETCD_ENDPOINTS"); // nothing of etcd: discovery is the Kubernetes API's
    env.putAll(kube.workerEnv(pod));
    // two runtime threads (the suites' default) can stall a 1.6 worker registering its
    // forward-pass channel with the Kubernetes discovery daemon running beside it
    env.put("DYN_RUNTIME_NUM_WORKER_THREADS", "4");
    if (zmq) {
      env.put("DYN_EVENT_PLANE_HOST", "127.0.0.1");
    } else if (atLeast(v, 1, 3)) {
      env.put("DYN_EVENT_PLANE", "nats");
    }
    String name = pod.getMetadata().getName();
    try {
      return new PushedLoadIT.Pusher(v, env, ns, name);
    } catch (AssertionError e) {
      // At times (in about one CI-like run in three; seen with 1.3.1 and 1.6.1, each time the
      // first worker of a ZMQ run) a worker under Kubernetes discovery never finishes starting:
      // no id within 90 s, and nothing in its log. The test is about the service, so such a worker
      // is started once more, and said so.
      if (!String.valueOf(e.getMessage()).contains(", got nothing")) {
        throw e;
      }
      System.out.println(
          "KubeDiscoveryIT: the "
              + v
              + " worker of pod "
              + name
              + " did not start; starting it again");
      return new PushedLoadIT.Pusher(v, env, ns, name + "-again");
    }
  }
}
