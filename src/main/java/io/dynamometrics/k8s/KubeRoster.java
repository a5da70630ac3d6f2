package io.dynamometrics.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.RosterBuilder;
import io.dynamometrics.poll.WorkerRegistry;
import io.dynamometrics.wire.Json;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Workers as the Dynamo operator deploys them (dynamo-events.md, section 3b): each described by a
 * {@code DynamoWorkerMetadata} resource and live while its pod is ready in an EndpointSlice
 * labelled for Dynamo's discovery. Both are watched (list, then watch; listed again after a lost
 * watch) in the Kubernetes namespaces given; {@link #roster()} reads the two caches.
 *
 * <p>A watch that fails (no permission, the resource type not installed, the API server out of
 * reach) is logged once with what to do, counted, and shown on {@code /readyz}; it is retried with
 * backoff, and its recovery is logged. Until every watch has listed once there is no roster.
 */
public final class KubeRoster implements WorkerRegistry, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(KubeRoster.class.getName());

  /** Dynamo's worker metadata resource type. */
  public static final ResourceDefinitionContext WORKER_METADATA =
      new ResourceDefinitionContext.Builder()
          .withGroup("nvidia.com")
          .withVersion("v1alpha1")
          .withKind("DynamoWorkerMetadata")
          .withPlural("dynamoworkermetadatas")
          .withNamespaced(true)
          .build();

  /** The labels of the EndpointSlices Dynamo's discovery reads. */
  public static final Map<String, String> SLICE_LABELS =
      Map.of(
          "nvidia.com/dynamo-discovery-backend", "kubernetes",
          "nvidia.com/dynamo-discovery-enabled", "true");

  static final String METADATA = "dynamoworkermetadatas.nvidia.com";
  static final String SLICES = "endpointslices.discovery.k8s.io";

  /** Counts watch failures by resource and reason (forbidden, not_found, unauthorized, ...). */
  public interface Observer {
    void watchFailed(String resource, String reason);
  }

  /** One watched resource type in one namespace ({@code null}: every namespace). */
  public final class Watch {
    final String resource;
    final String namespace;
    final SharedIndexInformer<?> informer;
    private volatile String problem;
    private boolean wasUp;

    Watch(String resource, String namespace, SharedIndexInformer<?> informer) {
      this.resource = resource;
      this.namespace = namespace;
      this.informer = informer;
    }

    public String resource() {
      return resource;
    }

    /** The namespace watched, {@code *} for all. */
    public String namespace() {
      return namespace == null ? "*" : namespace;
    }

    /** Listed and watching now. */
    public boolean up() {
      return informer.hasSynced() && informer.isWatching();
    }

    synchronized boolean failed(boolean started, Throwable t) {
      ApiFailure f = ApiFailure.of(t, "get, list and watch", resource, namespace(), server);
      observer.watchFailed(resource, f.reason());
      if (!f.message().equals(problem)) {
        problem = f.message();
        LOG.warning(
            (started ? "lost the watch of " : "cannot list ")
                + resource
                + " in namespace "
                + namespace()
                + ": "
                + f.message()
                + (started
                    ? "; the last list is kept and the watch retried"
                    : "; retrying, and no worker is known until it succeeds"));
      }
      return true; // keep retrying, with the client's backoff
    }

    /**
     * Logs a watch that broke (the client reconnects by itself, unseen by its exception handler)
     * and a recovery; the reason it is not up, or {@code null}.
     */
    synchronized String check() {
      if (up()) {
        if (problem != null) {
          problem = null;
          LOG.info("watching " + resource + " in namespace " + namespace() + " again");
        }
        wasUp = true;
        return null;
      }
      if (wasUp && problem == null) {
        wasUp = false;
        problem = "the watch broke (API server restarted or out of reach); reconnecting";
        observer.watchFailed(resource, "disconnected");
        LOG.warning(
            "lost the watch of "
                + resource
                + " in namespace "
                + namespace()
                + " at "
                + server
                + "; the last list is kept until the watch is back");
      }
      String p = problem;
      return resource
          + " in namespace "
          + namespace()
          + ": "
          + (p != null
              ? p
              : informer.hasSynced()
                  ? "watch reconnecting"
                  : "listing (no answer yet from the API server at " + server + ")");
    }
  }

  private final KubernetesClient client;
  private final String dynamoNamespace;
  private final String server;
  private final Observer observer;
  private final List<Watch> watches = new ArrayList<>();
  private final Map<String, WorkerResource> resources = new ConcurrentHashMap<>();
  private final Map<String, List<WorkerResource.PodRef>> readyPods = new ConcurrentHashMap<>();

  /**
   * Starts watching; returns at once.
   *
   * @param dynamoNamespace the Dynamo namespace whose workers make the roster
   * @param namespaces the Kubernetes namespaces to watch; {@code *} for every one
   */
  public KubeRoster(
      KubernetesClient client, String dynamoNamespace, List<String> namespaces, Observer observer) {
    this.client = client;
    this.dynamoNamespace = dynamoNamespace;
    this.server = client.getConfiguration().getMasterUrl();
    this.observer = observer;
    for (String ns : namespaces) {
      String scope = ns.equals("*") ? null : ns;
      var metadata =
          scope == null
              ? client.genericKubernetesResources(WORKER_METADATA).inAnyNamespace()
              : client.genericKubernetesResources(WORKER_METADATA).inNamespace(scope);
      watch(METADATA, scope, metadata.runnableInformer(0), this::onMetadata, this::offMetadata);
      var slices =
          scope == null
              ? client.discovery().v1().endpointSlices().inAnyNamespace().withLabels(SLICE_LABELS)
              : client
                  .discovery()
                  .v1()
                  .endpointSlices()
                  .inNamespace(scope)
                  .withLabels(SLICE_LABELS);
      watch(SLICES, scope, slices.runnableInformer(0), this::onSlice, this::offSlice);
    }
  }

  private <T extends HasMetadata> void watch(
      String resource,
      String namespace,
      SharedIndexInformer<T> informer,
      java.util.function.Consumer<T> put,
      java.util.function.Consumer<T> remove) {
    Watch w = new Watch(resource, namespace, informer);
    watches.add(w);
    informer.exceptionHandler(w::failed);
    informer.addEventHandler(
        new ResourceEventHandler<T>() {
          @Override
          public void onAdd(T obj) {
            put.accept(obj);
          }

          @Override
          public void onUpdate(T oldObj, T newObj) {
            put.accept(newObj);
          }

          @Override
          public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            remove.accept(obj);
          }
        });
    informer.start();
  }

  private static String key(HasMetadata o) {
    return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
  }

  private void onMetadata(GenericKubernetesResource r) {
    resources.put(key(r), read(r));
    // the informer keeps this very object to tell later lists and watch events apart, by key and
    // resource version only: its spec (model cards of kilobytes) is read once, above, and let go
    r.getAdditionalProperties().remove("spec");
    r.getMetadata().setManagedFields(null);
  }

  private void offMetadata(GenericKubernetesResource r) {
    resources.remove(key(r));
  }

  /** A resource as the roster needs it; its {@code spec.data} converted once, here. */
  static WorkerResource read(GenericKubernetesResource r) {
    String ownerPod = null;
    List<OwnerReference> owners = r.getMetadata().getOwnerReferences();
    if (owners != null) {
      for (OwnerReference o : owners) {
        if ("Pod".equals(o.getKind()) && "v1".equals(o.getApiVersion())) {
          ownerPod = o.getUid();
        }
      }
    }
    Object spec = r.getAdditionalProperties().get("spec");
    JsonNode data = spec == null ? null : Json.mapper().valueToTree(spec).get("data");
    return WorkerResource.of(
        r.getMetadata().getNamespace(), r.getMetadata().getName(), ownerPod, data);
  }

  private void onSlice(EndpointSlice s) {
    readyPods.put(key(s), ready(s));
    s.setEndpoints(null); // as for the resources: read once, above
    s.getMetadata().setManagedFields(null);
  }

  private void offSlice(EndpointSlice s) {
    readyPods.remove(key(s));
  }

  /** The pods a slice names as ready: Dynamo counts an endpoint only with {@code ready: true}. */
  static List<WorkerResource.PodRef> ready(EndpointSlice s) {
    List<WorkerResource.PodRef> out = new ArrayList<>();
    if (s.getEndpoints() == null) {
      return out;
    }
    for (Endpoint e : s.getEndpoints()) {
      ObjectReference t = e.getTargetRef();
      boolean ready =
          e.getConditions() != null && Boolean.TRUE.equals(e.getConditions().getReady());
      if (ready && t != null && "Pod".equals(t.getKind()) && t.getName() != null) {
        String ns = t.getNamespace() != null ? t.getNamespace() : s.getMetadata().getNamespace();
        out.add(new WorkerResource.PodRef(ns, t.getName(), t.getUid()));
      }
    }
    return List.copyOf(out);
  }

  public List<Watch> watches() {
    return List.copyOf(watches);
  }

  /** Why discovery is not complete now (one line per watch that is not up), or {@code null}. */
  @Override
  public String problem() {
    List<String> problems = new ArrayList<>();
    for (Watch w : watches) {
      String p = w.check();
      if (p != null) {
        problems.add(p);
      }
    }
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  @Override
  public String source() {
    return "the Kubernetes API (" + server + ")";
  }

  @Override
  public Roster roster() throws Unavailable {
    String problem = problem();
    for (Watch w : watches) {
      if (!w.informer.hasSynced()) {
        throw new Unavailable("not yet listed: " + problem);
      }
    }
    return roster(resources.values(), readyPods.values(), dynamoNamespace);
  }

  /** The roster of the resources whose pods are ready. */
  static Roster roster(
      Iterable<WorkerResource> resources,
      Iterable<List<WorkerResource.PodRef>> readyPods,
      String dynamoNamespace) {
    // indexed once per poll, so that a thousand resources are not each matched against every pod
    java.util.Set<String> uids = new java.util.HashSet<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    java.util.Set<String> namesWithoutUid = new java.util.HashSet<>();
    for (List<WorkerResource.PodRef> slice : readyPods) {
      for (WorkerResource.PodRef p : slice) {
        String name = p.namespace() + "/" + p.name();
        names.add(name);
        if (p.uid() == null) {
          namesWithoutUid.add(name);
        } else {
          uids.add(p.uid());
        }
      }
    }
    RosterBuilder b = new RosterBuilder(dynamoNamespace);
    for (WorkerResource r : resources) {
      WorkerResource.PodRef pod = r.pod();
      String name = pod.namespace() + "/" + pod.name();
      // the same pod: by uid where both know it (a pod recreated under its name is another),
      // else by namespace and name
      boolean ready =
          pod.uid() == null
              ? names.contains(name)
              : uids.contains(pod.uid()) || namesWithoutUid.contains(name);
      if (r.serves() && ready) {
        r.feed(b);
      }
    }
    return b.build();
  }

  @Override
  public void close() {
    watches.forEach(w -> w.informer.stop());
    client.close();
  }
}
