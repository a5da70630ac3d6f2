package io.dynamometrics.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where workers are discovered: etcd ({@code --etcd}), the Kubernetes API, or NATS alone. */
final class DiscoveryOptions {
  enum Backend {
    ETCD,
    KUBERNETES
  }

  @Option(
      names = "--discovery",
      paramLabel = "BACKEND",
      description =
          "Where workers are discovered: 'etcd' (the same as --etcd) or 'kubernetes': Dynamo 1.x as "
              + "its operator deploys it, from DynamoWorkerMetadata resources and the EndpointSlices "
              + "that say which pods are ready (credentials in a pod, else KUBECONFIG). Set "
              + "DYN_DISCOVERY_BACKEND=kubernetes, as the operator does for workers, to the same "
              + "effect. Without either, workers are known from NATS alone.")
  String backend;

  @Option(
      names = "--kube-namespace",
      split = ",",
      paramLabel = "NS",
      description =
          "With --discovery kubernetes: the Kubernetes namespaces to watch (comma-separated or "
              + "repeated; '*' for all, which needs a ClusterRole). Default: the service's own "
              + "namespace in a pod, else the namespace of the KUBECONFIG context, else 'default'.")
  List<String> kubeNamespaces;

  /** The backend chosen, or {@code null} for none; {@code --etcd} is {@code etcd}. */
  Backend backend(boolean etcdFlag, Map<String, String> env) {
    Backend chosen = null;
    if (backend != null) {
      chosen =
          switch (backend.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "etcd", "kv_store" -> Backend.ETCD;
            case "kubernetes" -> Backend.KUBERNETES;
            default ->
                throw new UserError(
                    "--discovery must be 'etcd' or 'kubernetes', got '" + backend + "'");
          };
    } else if ("kubernetes".equalsIgnoreCase(env.getOrDefault("DYN_DISCOVERY_BACKEND", ""))) {
      chosen = Backend.KUBERNETES;
    }
    if (etcdFlag && chosen == Backend.KUBERNETES) {
      throw new UserError(
          "--etcd and Kubernetes discovery ("
              + (backend != null ? "--discovery kubernetes" : "DYN_DISCOVERY_BACKEND=kubernetes")
              + ") exclude each other: workers register in one of them; pick one");
    }
    if (chosen != Backend.KUBERNETES && kubeNamespaces != null) {
      throw new UserError("--kube-namespace needs --discovery kubernetes");
    }
    return etcdFlag ? Backend.ETCD : chosen;
  }

  /**
   * A client of the cluster the service runs in, or of the KUBECONFIG context.
   *
   * @throws UserError when there is neither
   */
  KubernetesClient client(Map<String, String> env) {
    boolean inCluster =
        env.containsKey("KUBERNETES_SERVICE_HOST")
            && Files.exists(Path.of(Config.KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH));
    String kubeconfig = env.get("KUBECONFIG");
    Path home = Path.of(System.getProperty("user.home"), ".kube", "config");
    if (!inCluster && (kubeconfig == null || kubeconfig.isBlank()) && !Files.exists(home)) {
      throw new UserError(
          "Kubernetes discovery needs a cluster to talk to: run in a pod with a service account, "
              + "or set KUBECONFIG (no "
              + home
              + " either)");
    }
    if (kubeconfig != null && !kubeconfig.isBlank()) {
      for (String f : kubeconfig.split(java.io.File.pathSeparator)) {
        if (!f.isBlank() && !Files.isReadable(Path.of(f))) {
          throw new UserError("KUBECONFIG names " + f + ", which cannot be read");
        }
      }
    }
    try {
      // one file: read as given; several (merged) or none (in a pod): the client's own discovery
      Config config =
          kubeconfig != null
                  && !kubeconfig.isBlank()
                  && !kubeconfig.contains(java.io.File.pathSeparator)
              ? Config.fromKubeconfig(null, new java.io.File(kubeconfig))
              : Config.autoConfigure(null);
      // a failed request goes to the watch's own retry and backoff at once, so that it is
      // reported (log, /readyz, metrics) rather than retried unseen by the HTTP layer for minutes
      config.setRequestRetryBackoffLimit(0);
      return new KubernetesClientBuilder().withConfig(config).build();
    } catch (RuntimeException e) {
      throw new UserError("cannot configure the Kubernetes client: " + e.getMessage());
    }
  }

  /** The namespaces to watch: the flag's, else the client's own. */
  List<String> namespaces(KubernetesClient client) {
    if (kubeNamespaces != null && !kubeNamespaces.isEmpty()) {
      for (String ns : kubeNamespaces) {
        if (!ns.equals("*") && !ns.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
          throw new UserError(
              "--kube-namespace '" + ns + "' is not a Kubernetes namespace name (nor '*')");
        }
      }
      return List.copyOf(kubeNamespaces);
    }
    String own = client.getNamespace();
    return List.of(own == null || own.isBlank() ? "default" : own);
  }
}
