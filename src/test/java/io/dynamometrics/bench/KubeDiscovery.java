package io.dynamometrics.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.wire.PushEncoder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.nats.client.Connection;
import io.nats.client.Nats;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Kubernetes discovery against a real kube-apiserver: {@code N} worker resources (shaped as real
 * 1.6 workers write them, model card included) with their pods ready, watched by the service, next
 * to a second service watching an empty namespace, side by side: the live heap and resident memory
 * of each (the difference is what the resources cost). Then, a number of times, the time from a
 * worker's pod turning ready in its EndpointSlice to its first value served on {@code /metrics},
 * the worker publishing its load on NATS all along (as an idle worker that just started does).
 */
final class KubeDiscovery {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NS = "bench";

  /**
   * What one run measured.
   *
   * @param listedMs from the service's start to every resource's worker served (each publishing its
   *     load every 200 ms)
   * @param heapPerResourceBytes live heap (after a full GC) of the watching service less the idle
   *     one's, per resource
   * @param readyToValueMedianMs from the pod's readiness written to the API server to the worker's
   *     first value on /metrics (the service polls every second)
   */
  record Result(
      int resources,
      double listedMs,
      double heapWatchingBytes,
      double heapIdleBytes,
      double heapPerResourceBytes,
      long rssWatchingKib,
      long rssIdleKib,
      int samples,
      double[] readyToValueMs,
      double readyToValueMedianMs,
      double readyToValueMaxMs) {}

  private KubeDiscovery() {}

  @SuppressWarnings("try") // jnats' close may be interrupted
  static Result run(Path out, int resources, int samples) throws Exception {
    Path logs = Files.createDirectories(out.resolve("logs"));
    try (KubeControlPlane kube = new KubeControlPlane(logs, false, true)) {
      int natsPort = Processes.freePort();
      Process nats = Processes.natsServer(logs.resolve("kube-nats.log"), natsPort);
      String natsUrl = "nats://127.0.0.1:" + natsPort;
      kube.admin
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName("idle").endMetadata().build())
          .create();
      List<Process> services = new ArrayList<>();
      try (Connection nc = Nats.connect(natsUrl)) {
        Map<Pod, Boolean> ready = new LinkedHashMap<>();
        for (int i = 0; i < resources; i++) {
          Pod pod = fakePod("worker-" + i, "uid-" + i);
          create(kube, pod, 0x100000L + i);
          ready.put(pod, true);
        }
        slices(kube, ready);
        int watching = Processes.freePort();
        int idle = Processes.freePort();
        long start = System.nanoTime();
        services.add(service(kube, logs, natsUrl, watching, KubeControlPlane.NAMESPACE));
        services.add(service(kube, logs, natsUrl, idle, "idle"));
        HttpClient http = HttpClient.newHttpClient();
        // every worker publishes its load (once a second, as an idle one would not; the service
        // drops a value until it lists the worker, so this is how the listing shows)
        long[] ids = new long[resources];
        for (int i = 0; i < resources; i++) {
          ids[i] = 0x100000L + i;
        }
        AtomicBoolean all = new AtomicBoolean(true);
        Thread loads = publish(nc, ids, 200, all);
        await(http, watching, m -> served(m) == resources, Duration.ofMinutes(2));
        double listedMs = (System.nanoTime() - start) / 1e6;
        all.set(false);
        loads.join();
        await(
            http,
            idle,
            m -> m.contains("dynamo_metrics_kubernetes_watch_up"),
            Duration.ofSeconds(60));
        Thread.sleep(3000); // a few polls of both, so that each has reached its steady state
        double heapWatching =
            Processes.liveHeapBytes(Processes.classHistogram(services.get(0).pid()));
        double heapIdle = Processes.liveHeapBytes(Processes.classHistogram(services.get(1).pid()));
        long rssWatching = Processes.rssKib(services.get(0));
        long rssIdle = Processes.rssKib(services.get(1));

        double[] ms = new double[samples];
        for (int s = 0; s < samples; s++) {
          long id = 0x200000L + s;
          Pod probe = fakePod("probe-" + s, "probe-uid-" + s);
          create(kube, probe, id);
          AtomicBoolean publishing = new AtomicBoolean(true);
          Thread pub = publish(nc, new long[] {id}, 20, publishing);
          Thread.sleep(1500); // published, not yet ready: the service must not show it
          String worker = "llm_kv_blocks_active{";
          String idLabel = "worker_id=\"" + Long.toUnsignedString(id) + "\"";
          java.util.function.Predicate<String> served =
              m -> m.lines().anyMatch(l -> l.startsWith(worker) && l.contains(idLabel));
          if (served.test(get(http, watching))) {
            throw new IllegalStateException("probe " + s + " served before its pod was ready");
          }
          long t0 = System.nanoTime();
          KubeControlPlane.slice(kube.admin, "probe", Map.of(probe, true));
          await(http, watching, served, Duration.ofSeconds(30));
          ms[s] = (System.nanoTime() - t0) / 1e6;
          publishing.set(false);
          pub.join();
          KubeControlPlane.slice(kube.admin, "probe", Map.of(probe, false));
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        Result r =
            new Result(
                resources,
                listedMs,
                heapWatching,
                heapIdle,
                (heapWatching - heapIdle) / resources,
                rssWatching,
                rssIdle,
                samples,
                ms,
                sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2],
                sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1]);
        JSON.writerWithDefaultPrettyPrinter()
            .writeValue(out.resolve("kube-discovery.json").toFile(), r);
        return r;
      } finally {
        for (Process p : services) {
          Processes.stop(p, Duration.ofSeconds(5));
        }
        Processes.stop(nats, Duration.ofSeconds(5));
      }
    }
  }

  /**
   * A thread that publishes each worker's load (an envelope on NATS, as 1.x workers do) every
   * {@code periodMs} while {@code on} holds.
   */
  private static Thread publish(Connection nc, long[] ids, long periodMs, AtomicBoolean on) {
    return Thread.ofPlatform()
        .start(
            () -> {
              long seq = 0;
              while (on.get()) {
                for (long id : ids) {
                  nc.publish(
                      "namespace." + NS + ".kv_metrics",
                      PushEncoder.envelope(
                          id,
                          seq,
                          System.currentTimeMillis(),
                          "kv_metrics",
                          PushEncoder.activeLoad(id, 0, 7, 9)));
                }
                seq++;
                try {
                  Thread.sleep(periodMs);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
  }

  /** A Pod object as the API server would return it: only its name and uid are read. */
  private static Pod fakePod(String name, String uid) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(KubeControlPlane.NAMESPACE)
        .withUid(uid)
        .endMetadata()
        .build();
  }

  /** EndpointSlices of at most 500 endpoints each (the API allows 1,000). */
  private static void slices(KubeControlPlane kube, Map<Pod, Boolean> ready) {
    List<Pod> pods = new ArrayList<>(ready.keySet());
    for (int from = 0, n = 0; from < pods.size(); from += 500, n++) {
      Map<Pod, Boolean> part = new LinkedHashMap<>();
      for (Pod p : pods.subList(from, Math.min(pods.size(), from + 500))) {
        part.put(p, true);
      }
      KubeControlPlane.slice(kube.admin, "workers-" + n, part);
    }
  }

  /** The resource a real 1.6 worker of pod {@code pod} writes, with instance id {@code id}. */
  private static void create(KubeControlPlane kube, Pod pod, long id) throws Exception {
    String hex = Long.toHexString(id);
    String json =
        Files.readString(Path.of("src/test/resources/fixtures/dynamo-events/k8s/dwm-161-zmq.json"))
            .replace("1010178b58853", hex)
            .replace("282580808468563", Long.toString(id))
            .replace("\"dyn1x", "\"" + NS)
            .replace("dyn1x/", NS + "/")
            .replace("namespace/dyn1x", "namespace/" + NS)
            .replace("worker-a", pod.getMetadata().getName())
            .replace("a47a8b07-19ff-42b9-8953-8769f94be057", pod.getMetadata().getUid());
    GenericKubernetesResource r =
        new KubernetesSerialization()
            .unmarshal(json, io.fabric8.kubernetes.api.model.GenericKubernetesResourceList.class)
            .getItems()
            .get(0);
    // the load arrives on NATS here: no ZMQ channel for the service to connect to
    @SuppressWarnings("unchecked")
    Map<String, Object> data =
        (Map<String, Object>)
            ((Map<String, Object>) r.getAdditionalProperties().get("spec")).get("data");
    data.remove("event_channels");
    data.remove("event_sources");
    r.getMetadata().setNamespace(KubeControlPlane.NAMESPACE);
    r.getMetadata().setResourceVersion(null);
    r.getMetadata().setUid(null);
    r.getMetadata().setCreationTimestamp(null);
    r.getMetadata().setGeneration(null);
    kube.admin
        .genericKubernetesResources("nvidia.com/v1alpha1", "DynamoWorkerMetadata")
        .inNamespace(KubeControlPlane.NAMESPACE)
        .resource(r)
        .create();
  }

  private static Process service(
      KubeControlPlane kube, Path logs, String natsUrl, int port, String namespace)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            Processes.self(
                "512m",
                List.of(),
                "--namespace",
                NS,
                "--nats-server",
                natsUrl,
                "--host",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--discovery",
                "kubernetes",
                "--kube-namespace",
                namespace,
                "--log-level",
                "warn"));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(logs.resolve("kube-service-" + namespace + ".log").toFile());
    pb.environment().put("KUBECONFIG", kube.kubeconfig("admin").toString());
    return pb.start();
  }

  /** Workers with a value served. */
  private static double served(String metrics) {
    return metrics
        .lines()
        .filter(l -> l.startsWith("llm_workers{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static String get(HttpClient http, int port) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static void await(
      HttpClient http, int port, java.util.function.Predicate<String> ok, Duration timeout) {
    try {
      org.awaitility.Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(20))
          .ignoreExceptions()
          .until(() -> ok.test(get(http, port)));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      String last;
      try {
        last =
            String.join(
                "\n",
                get(http, port)
                    .lines()
                    .filter(l -> l.startsWith("llm_workers") || l.contains("kubernetes"))
                    .toList());
      } catch (Exception unreadable) {
        last = unreadable.toString();
      }
      throw new IllegalStateException(
          "the service on port "
              + port
              + " did not get there in "
              + timeout
              + "; it says:\n"
              + last);
    }
  }
}
