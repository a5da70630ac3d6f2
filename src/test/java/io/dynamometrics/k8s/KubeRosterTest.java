package io.dynamometrics.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.Target;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The roster read from real 1.x workers' resources (fixtures), by the readiness of their pods. */
class KubeRosterTest {
  private static final Path DIR = Path.of("src/test/resources/fixtures/dynamo-events/k8s");
  private static final KubernetesSerialization SERIAL = new KubernetesSerialization();
  private static final long WORKER_A = 0x1010178b58853L;

  private static List<WorkerResource> resources(String file) throws Exception {
    return SERIAL
        .unmarshal(Files.readString(DIR.resolve(file)), GenericKubernetesResourceList.class)
        .getItems()
        .stream()
        .map(KubeRoster::read)
        .toList();
  }

  private static List<List<WorkerResource.PodRef>> slice() throws Exception {
    EndpointSlice s =
        SERIAL.unmarshal(Files.readString(DIR.resolve("slice.yaml")), EndpointSlice.class);
    return List.of(KubeRoster.ready(s));
  }

  @Test
  void aReadyWorkerIsReadWithItsZmqPublishersAndEventSources() throws Exception {
    Roster r = KubeRoster.roster(resources("dwm-161-zmq.json"), slice(), "dyn1x");
    assertThat(r.workers()).containsOnlyKeys(WORKER_A);
    assertThat(r.workers().get(WORKER_A).endpoints())
        .containsExactly(new Target("dyn1x", "backend", "generate"));
    assertThat(r.zmq())
        .contains(
            new Roster.Channel(
                "tcp://127.0.0.1:46661",
                "kv_metrics",
                0x15b8eba7dec2cfL,
                WORKER_A,
                new Target("dyn1x", "backend", "generate")));
    assertThat(r.workerOf(0x15b8eba7dec2cfL)).isEqualTo(WORKER_A); // through its resource
    assertThat(r.workerOf(0xfbec5e86bb4b2L)).isEqualTo(WORKER_A); // named by its event source
    // another Dynamo namespace sees none of it
    assertThat(KubeRoster.roster(resources("dwm-161-zmq.json"), slice(), "other").workers())
        .isEmpty();
  }

  @Test
  void aWorkerLivesOnlyWhileItsPodIsReadyAndItServes() throws Exception {
    // not in a slice, or in one as not ready
    assertThat(KubeRoster.roster(resources("dwm-161-zmq.json"), List.of(), "dyn1x").workers())
        .isEmpty();
    EndpointSlice s =
        SERIAL.unmarshal(Files.readString(DIR.resolve("slice.yaml")), EndpointSlice.class);
    s.getEndpoints().get(0).getConditions().setReady(false);
    assertThat(KubeRoster.ready(s)).isEmpty();
    s.getEndpoints().get(0).getConditions().setReady(null); // Dynamo counts only ready: true
    assertThat(KubeRoster.ready(s)).isEmpty();
    // a pod of the same name with another uid is another pod
    s.getEndpoints().get(0).getConditions().setReady(true);
    s.getEndpoints().get(0).getTargetRef().setUid("another");
    assertThat(
            KubeRoster.roster(resources("dwm-161-zmq.json"), List.of(KubeRoster.ready(s)), "dyn1x")
                .workers())
        .isEmpty();
    // after a clean exit the resource stays, with endpoints null: no worker, and its channels
    // belong to nobody
    GenericKubernetesResource exited =
        SERIAL.unmarshal(
            Files.readString(DIR.resolve("dwm-161-after-graceful-exit.json")),
            GenericKubernetesResource.class);
    Roster r = KubeRoster.roster(List.of(KubeRoster.read(exited)), slice(), "dyn1x");
    assertThat(r.workers()).isEmpty();
    assertThat(r.zmq()).isEmpty();
    assertThat(r.publishers()).isEmpty();
  }

  @Test
  void olderReleasesNatsChannelsLinkTheirPublishersToTheirWorkers() throws Exception {
    List<WorkerResource> all = resources("dwm-old.json");
    List<WorkerResource.PodRef> ready = all.stream().map(WorkerResource::pod).toList();
    Roster r = KubeRoster.roster(all, List.of(ready), "dyn1x");
    // worker-a exited (endpoints null); 1.0.0 and 1.2.1 serve
    assertThat(r.workers()).containsOnlyKeys(0x187f45e888076cL, 0x1af14ff504962aL);
    assertThat(r.workerOf(0x187f45e888076cL)).isEqualTo(0x187f45e888076cL);
    assertThat(r.zmq()).isEmpty(); // NATS channels: no address to connect to
  }

  @Test
  void failuresSayWhatToDo() {
    var forbidden =
        ApiFailure.of(
            new KubernetesClientException(
                new io.fabric8.kubernetes.api.model.StatusBuilder()
                    .withCode(403)
                    .withMessage(
                        "dynamoworkermetadatas.nvidia.com is forbidden: User \"x\" cannot list"
                            + " resource \"dynamoworkermetadatas\"")
                    .build()),
            "get, list and watch",
            KubeRoster.METADATA,
            "dynamo",
            "https://127.0.0.1:6443/");
    assertThat(forbidden.reason()).isEqualTo("forbidden");
    assertThat(forbidden.message())
        .contains("cannot list resource \"dynamoworkermetadatas\"")
        .contains("get, list and watch on dynamoworkermetadatas.nvidia.com in namespace dynamo");
    var missing =
        ApiFailure.of(
            new KubernetesClientException(
                new io.fabric8.kubernetes.api.model.StatusBuilder().withCode(404).build()),
            "get, list and watch",
            KubeRoster.METADATA,
            "dynamo",
            "https://127.0.0.1:6443/");
    assertThat(missing.reason()).isEqualTo("not_found");
    assertThat(missing.message()).contains("CRD is not installed");
    var away =
        ApiFailure.of(
            new KubernetesClientException(
                "Operation failed", new java.net.ConnectException("Connection refused")),
            "get, list and watch",
            KubeRoster.SLICES,
            "dynamo",
            "https://127.0.0.1:6443/");
    assertThat(away.reason()).isEqualTo("unreachable");
    assertThat(away.message())
        .isEqualTo("cannot reach the API server at https://127.0.0.1:6443/ (connection refused)");
  }
}
