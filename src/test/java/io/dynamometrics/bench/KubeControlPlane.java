package io.dynamometrics.bench;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC, token users {@code
 * admin} in system:masters and {@code nobody} with no role) and kube-controller-manager running
 * only the garbage collector, built by bin/go-tools. Installs our DynamoWorkerMetadata CRD
 * (src/test/resources/k8s). There is no kubelet: pods stay Pending, and the test says which are
 * ready through the EndpointSlice Dynamo's discovery reads.
 */
public final class KubeControlPlane implements AutoCloseable {
  public static final String NAMESPACE = "default";
  private static final Path TOOLS = Path.of("target/tools/bin");

  private final Path dir;
  private final Path logs;
  private final Process etcd;
  private final String etcdUrl;
  public final int port;
  private Process apiserver;
  private final Process gc; // null without the garbage collector
  public final KubernetesClient admin;

  /** With the garbage collector and the CRD. */
  public KubeControlPlane(Path logs) throws Exception {
    this(logs, true, true);
  }

  /**
   * @param garbageCollector also run kube-controller-manager's garbage collector
   * @param crd install the DynamoWorkerMetadata CRD now (else {@link #installCrd} later)
   */
  public KubeControlPlane(Path logs, boolean garbageCollector, boolean crd) throws Exception {
    this.logs = logs;
    this.dir = Files.createTempDirectory("kube");
    int client = Processes.freePort();
    int peer = Processes.freePort();
    this.etcdUrl = "http://127.0.0.1:" + client;
    String peerUrl = "http://127.0.0.1:" + peer;
    this.etcd =
        Processes.start(
            logs.resolve("kube-etcd-" + client + ".log"),
            List.of(
                Processes.binary("etcd", "etcd-server"),
                "--name=kube",
                "--data-dir=" + dir.resolve("etcd"),
                "--listen-client-urls=" + etcdUrl,
                "--advertise-client-urls=" + etcdUrl,
                "--listen-peer-urls=" + peerUrl,
                "--initial-advertise-peer-urls=" + peerUrl,
                "--initial-cluster=kube=" + peerUrl));
    Processes.awaitPort(client, Duration.ofSeconds(10));
    this.port = Processes.freePort();
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    byte[] key = g.generateKeyPair().getPrivate().getEncoded();
    Files.writeString(
        dir.resolve("sa.key"),
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(key)
            + "\n-----END PRIVATE KEY-----\n");
    Files.writeString(
        dir.resolve("tokens.csv"),
        "admin-token,admin,admin,\"system:masters\"\nnobody-token,nobody,nobody\n");
    apiserver = startApiServer(port);
    writeKubeconfig("admin", "admin-token");
    writeKubeconfig("nobody", "nobody-token");
    admin = client("admin");
    gc =
        garbageCollector
            ? Processes.start(
                logs.resolve("kube-controller-manager-" + port + ".log"),
                List.of(
                    tool("kube-controller-manager"),
                    "--kubeconfig=" + kubeconfig("admin"),
                    "--controllers=garbagecollector",
                    "--leader-elect=false",
                    "--secure-port=0"))
            : null;
    if (crd) {
      installCrd();
    }
  }

  private static String tool(String name) {
    Path p = TOOLS.resolve(name).toAbsolutePath();
    if (!Files.isExecutable(p)) {
      throw new IllegalStateException(p + " not found: run bin/go-tools (bin/test does)");
    }
    return p.toString();
  }

  private Process startApiServer(int port) throws Exception {
    Process p =
        Processes.start(
            logs.resolve("kube-apiserver-" + port + ".log"),
            List.of(
                tool("kube-apiserver"),
                "--etcd-servers=" + etcdUrl,
                "--bind-address=127.0.0.1",
                "--secure-port=" + port,
                "--cert-dir=" + dir.resolve("certs-" + port),
                "--service-account-issuer=https://kubernetes.default.svc",
                "--service-account-key-file=" + dir.resolve("sa.key"),
                "--service-account-signing-key-file=" + dir.resolve("sa.key"),
                "--token-auth-file=" + dir.resolve("tokens.csv"),
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.96.0.0/12",
                "--disable-admission-plugins=ServiceAccount"));
    Processes.awaitPort(port, Duration.ofSeconds(30));
    java.net.http.HttpClient http =
        java.net.http.HttpClient.newBuilder().sslContext(trustAll()).build();
    // serving /readyz once its post-start hooks (RBAC roles, ...) ran
    Awaitility.await("kube-apiserver on port " + port + " ready")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () ->
                http.send(
                            java.net.http.HttpRequest.newBuilder(
                                    java.net.URI.create("https://127.0.0.1:" + port + "/readyz"))
                                .header("Authorization", "Bearer admin-token")
                                .build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString())
                        .statusCode()
                    == 200);
    return p;
  }

  private static javax.net.ssl.SSLContext trustAll() throws Exception {
    javax.net.ssl.TrustManager tm =
        new javax.net.ssl.X509TrustManager() {
          @Override
          public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

          @Override
          public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

          @Override
          public java.security.cert.X509Certificate[] getAcceptedIssuers() {
            return new java.security.cert.X509Certificate[0];
          }
        };
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(null, new javax.net.ssl.TrustManager[] {tm}, null);
    return ctx;
  }

  /** The kubeconfig of {@code user} ({@code admin} or {@code nobody}). */
  public Path kubeconfig(String user) {
    return dir.resolve("kubeconfig-" + user);
  }

  private void writeKubeconfig(String user, String token) throws Exception {
    Files.writeString(
        kubeconfig(user),
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: it",
            "  cluster:",
            "    server: https://127.0.0.1:" + port,
            "    certificate-authority: " + dir.resolve("certs-" + port).resolve("apiserver.crt"),
            "users:",
            "- name: " + user,
            "  user:",
            "    token: " + token,
            "contexts:",
            "- name: it",
            "  context: {cluster: it, user: " + user + ", namespace: " + NAMESPACE + "}",
            "current-context: it",
            ""));
  }

  /**
   * Installs what the Helm chart renders for Kubernetes discovery (its ServiceAccount, Role and
   * RoleBinding, by the real helm) and writes a kubeconfig {@code chart} with a token of that
   * account: the service then has exactly the chart's permissions.
   */
  public Path chartAccount() throws Exception {
    Process helm =
        new ProcessBuilder(
                tool("helm"),
                "template",
                "dm",
                "deploy/helm/dynamo-metrics",
                "--namespace",
                NAMESPACE,
                "--set",
                "kubernetesDiscovery.enabled=true,etcd.enabled=false",
                "--show-only",
                "templates/serviceaccount.yaml",
                "--show-only",
                "templates/rbac.yaml")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String manifests = new String(helm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (helm.waitFor() != 0) {
      throw new IllegalStateException("helm template failed: " + manifests);
    }
    String account = null;
    for (HasMetadata o :
        admin
            .load(new java.io.ByteArrayInputStream(manifests.getBytes(StandardCharsets.UTF_8)))
            .items()) {
      admin.resource(o).inNamespace(NAMESPACE).create();
      if (o instanceof io.fabric8.kubernetes.api.model.ServiceAccount) {
        account = o.getMetadata().getName();
      }
    }
    String token =
        admin
            .serviceAccounts()
            .inNamespace(NAMESPACE)
            .withName(account)
            .tokenRequest(
                new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(3600L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
    writeKubeconfig("chart", token);
    return kubeconfig("chart");
  }

  public KubernetesClient client(String user) {
    return new KubernetesClientBuilder()
        .withConfig(Config.fromKubeconfig(null, kubeconfig(user).toFile()))
        .build();
  }

  public void installCrd() throws Exception {
    GenericKubernetesResource crd =
        new KubernetesSerialization()
            .unmarshal(
                Files.readString(Path.of("src/test/resources/k8s/dynamoworkermetadatas-crd.yaml")),
                GenericKubernetesResource.class);
    admin
        .genericKubernetesResources("apiextensions.k8s.io/v1", "CustomResourceDefinition")
        .resource(crd)
        .create();
    Awaitility.await("the DynamoWorkerMetadata CRD established")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () ->
                admin
                        .genericKubernetesResources("nvidia.com/v1alpha1", "DynamoWorkerMetadata")
                        .inNamespace(NAMESPACE)
                        .list()
                    != null);
  }

  /** The environment a worker of pod {@code pod} runs with, as the Dynamo operator sets it. */
  public Map<String, String> workerEnv(Pod pod) {
    return Map.of(
        "DYN_DISCOVERY_BACKEND",
        "kubernetes",
        "KUBECONFIG",
        kubeconfig("admin").toString(),
        "POD_NAME",
        pod.getMetadata().getName(),
        "POD_UID",
        pod.getMetadata().getUid(),
        "POD_NAMESPACE",
        NAMESPACE);
  }

  /** A pod (never scheduled: there is no node). */
  public Pod pod(String name) {
    return admin
        .pods()
        .inNamespace(NAMESPACE)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("main")
                .withImage("worker")
                .endContainer()
                .endSpec()
                .build())
        .create();
  }

  /**
   * Writes the EndpointSlice Dynamo's discovery reads, naming each of {@code pods} with its
   * readiness.
   */
  public void slice(Map<Pod, Boolean> pods) {
    slice(admin, "workers", pods);
  }

  /** The same, through {@code client}, in the slice named {@code name}. */
  public static void slice(KubernetesClient client, String name, Map<Pod, Boolean> pods) {
    List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> endpoints = new ArrayList<>();
    int i = 0;
    for (Map.Entry<Pod, Boolean> e : pods.entrySet()) {
      Pod p = e.getKey();
      endpoints.add(
          new EndpointBuilder()
              .withAddresses("10.0." + (i / 250) + "." + (i++ % 250 + 1))
              .withNewConditions()
              .withReady(e.getValue())
              .endConditions()
              .withNewTargetRef()
              .withKind("Pod")
              .withName(p.getMetadata().getName())
              .withNamespace(NAMESPACE)
              .withUid(p.getMetadata().getUid())
              .endTargetRef()
              .build());
    }
    EndpointSlice s =
        new EndpointSliceBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(NAMESPACE)
            .withLabels(
                Map.of(
                    "kubernetes.io/service-name", name,
                    "nvidia.com/dynamo-discovery-backend", "kubernetes",
                    "nvidia.com/dynamo-discovery-enabled", "true"))
            .endMetadata()
            .withAddressType("IPv4")
            .withEndpoints(endpoints)
            .build();
    client.discovery().v1().endpointSlices().inNamespace(NAMESPACE).resource(s).serverSideApply();
  }

  /** Stops the API server (the watches break), runs {@code meanwhile}, and starts it again. */
  public void restartApiServer(java.util.function.Consumer<KubernetesClient> meanwhile)
      throws Exception {
    Processes.stop(apiserver, Duration.ofSeconds(10));
    int other = Processes.freePort();
    Process second = startApiServer(other);
    try {
      Path cfg = dir.resolve("kubeconfig-other");
      Files.writeString(
          cfg,
          Files.readString(kubeconfig("admin"))
              .replace("127.0.0.1:" + port, "127.0.0.1:" + other)
              .replace("certs-" + port, "certs-" + other));
      try (KubernetesClient c =
          new KubernetesClientBuilder()
              .withConfig(Config.fromKubeconfig(null, cfg.toFile()))
              .build()) {
        meanwhile.accept(c);
      }
    } finally {
      Processes.stop(second, Duration.ofSeconds(10));
    }
    apiserver = startApiServer(port);
  }

  @Override
  public void close() {
    admin.close();
    for (Process p : new Process[] {gc, apiserver, etcd}) {
      if (p == null) {
        continue;
      }
      try {
        Processes.stop(p, Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
