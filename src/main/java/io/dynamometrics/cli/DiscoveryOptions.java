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

  @Option(
      names = "--kube-lease",
      paramLabel = "NAME",
      description =
          "With --discovery kubernetes and --standby: the coordination.k8s.io Lease the replicas "
              + "elect their leader with, in the service's own namespace (which needs get, create "
              + "and update on leases there; the Helm chart grants them). Default: "
              + "dynamo-metrics-<--namespace>.")
  String kubeLease;

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

  /** Refuses {@code --kube-lease} where there is no Lease election. */
  void checkLease(boolean standby, Backend chosen) {
    if (kubeLease != null && !(standby && chosen == Backend.KUBERNETES)) {
      throw new UserError("--kube-lease needs --discovery kubernetes and --standby");
    }
    if (kubeLease != null && !isLeaseName(kubeLease)) {
      throw new UserError(
          "--kube-lease '"
              + kubeLease
              + "' is not a Kubernetes object name (lower case letters, digits, '-' and '.')");
    }
  }

  private static boolean isLeaseName(String s) {
    return s.length() <= 253 && s.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
  }

  /** The Lease's name: the flag's, else one made from the Dynamo namespace. */
  String lease(String dynamoNamespace) {
    if (kubeLease != null) {
      return kubeLease;
    }
    String made =
        ("dynamo-metrics-" + dynamoNamespace.toLowerCase(java.util.Locale.ROOT))
            .replaceAll("[^-a-z0-9.]", "-")
            .replaceAll("[-.]+$", "");
    return made.length() > 253 ? made.substring(0, 253) : made;
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
    return List.of(ownNamespace(client));
  }

  /** The service's own namespace in a pod, else the KUBECONFIG context's, else 'default'. */
  static String ownNamespace(KubernetesClient client) {
    String own = client.getNamespace();
    return own == null || own.isBlank() ? "default" : own;
  }
}
