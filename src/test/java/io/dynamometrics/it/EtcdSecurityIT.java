package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.etcd.EtcdClient;
import io.dynamometrics.etcd.Layout;
import io.dynamometrics.tls.TlsFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The aggregator and the mock worker against etcds that require a user name and password (over TLS
 * with a private CA; a user allowed to read and write, not root), or a client certificate. etcd
 * 3.4's JSON gateway cannot do both at once: with client certificates required it takes the user
 * from the certificate and refuses password authentication.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EtcdSecurityIT {
  private static final Duration WAIT = Duration.ofSeconds(25);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ROOT_PASSWORD = "r00t-Secret";
  private static final String PASSWORD = "dyn-Secret-pw";

  private TestCa ca;
  private Servers.Etcd etcd; // TLS, users and passwords
  private Servers.Etcd certEtcd; // TLS, client certificates required
  private Servers.Nats nats;
  @RegisterExtension final Started started = new Started();

  @BeforeAll
  void start() throws Exception {
    ca = new TestCa("etcd", "client");
    etcd = started.server(new Servers.Etcd(Jar.LOGS, ca.cert("etcd"), ca.key("etcd"), null));
    certEtcd = started.server(new Servers.Etcd(Jar.LOGS, ca.cert("etcd"), ca.key("etcd"), ca.ca()));
    nats = started.nats();
    // etcd 3.4 over its JSON gateway: root (required to enable auth), then a read-write user for us
    admin("/v3/auth/user/add", Map.of("name", "root", "password", ROOT_PASSWORD), null);
    admin("/v3/auth/role/add", Map.of("name", "root"), null);
    admin("/v3/auth/user/grant", Map.of("user", "root", "role", "root"), null);
    admin("/v3/auth/user/add", Map.of("name", "dynamo", "password", PASSWORD), null);
    admin("/v3/auth/role/add", Map.of("name", "dynamo-rw"), null);
    admin(
        "/v3/auth/role/grant",
        Map.of(
            "name",
            "dynamo-rw",
            "perm",
            Map.of("permType", "READWRITE", "key", "AA==", "range_end", "AA==")),
        null);
    admin("/v3/auth/user/grant", Map.of("user", "dynamo", "role", "dynamo-rw"), null);
    admin("/v3/auth/enable", Map.of(), null);
    String token =
        admin("/v3/auth/authenticate", Map.of("name", "root", "password", ROOT_PASSWORD), null)
            .path("token")
            .asText();
    // anonymous requests are refused from now on
    assertThat(admin("/v3/kv/range", Map.of("key", "AA=="), null).toString())
        .contains("user name is empty");
    assertThat(admin("/v3/kv/range", Map.of("key", "AA=="), token).has("error")).isFalse();
  }

  private JsonNode admin(String path, Map<String, ?> body, String token) throws Exception {
    HttpClient http =
        HttpClient.newBuilder()
            .sslContext(TlsFiles.load(Path.of(ca.ca()), null, null, null, "test").clientContext())
            .build();
    HttpRequest.Builder req =
        HttpRequest.newBuilder(URI.create(etcd.url() + path))
            .timeout(Duration.ofSeconds(5))
            .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
    if (token != null) {
      req.header("Authorization", token);
    }
    HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body());
  }

  private Map<String, String> env(String password) {
    return Map.of(
        "ETCD_ENDPOINTS",
        etcd.url(),
        "ETCD_AUTH_USERNAME",
        "dynamo",
        "ETCD_AUTH_PASSWORD",
        password,
        "ETCD_AUTH_CA",
        ca.ca());
  }

  private String[] aggregatorArgs(String ns, int port) {
    return Jar.watching(ns, nats.url(), port, "--etcd");
  }

  @Test
  void claimAndRegistrationsWorkOverTlsWithAUserAndPassword() throws Exception {
    Map<String, String> env = env(PASSWORD);
    started.jar(
        "etcdsec-mock",
        env,
        "mock-worker",
        "--namespace",
        "sec",
        "--workers",
        "2",
        "--nats-server",
        nats.url(),
        "--etcd");
    int port = Servers.freePort();
    started.jar("etcdsec-agg", env, aggregatorArgs("sec", port));
    Jar.await(
        port,
        "/metrics",
        b ->
            b.contains("dynamo_metrics_leader 1.0")
                && Jar.samples(b, "llm_kv_blocks_active").size() == 2
                && Jar.samples(b, "llm_workers_registered").stream()
                    .anyMatch(l -> l.endsWith(" 2.0")),
        WAIT);
    EtcdClient client =
        new EtcdClient(
            List.of(URI.create(etcd.url())),
            TlsFiles.load(Path.of(ca.ca()), null, null, null, "test").clientContext(),
            "dynamo",
            PASSWORD);
    assertThat(client.get(Layout.INSTANCES.singleton("sec"))).contains("MyComponent");
    for (String log : new String[] {"etcdsec-mock", "etcdsec-agg"}) {
      assertThat(Files.readString(Jar.LOGS.resolve(log + ".log"))).as(log).doesNotContain(PASSWORD);
    }
  }

  @Test
  void aWrongPasswordIsOneClearLineAndExitCode2() throws Exception {
    Jar.Result r =
        Jar.run(env("not-the-password"), aggregatorArgs("sec-wrong", Servers.freePort()));
    assertThat(r.exitCode()).as(r.output()).isEqualTo(2);
    assertThat(r.output())
        .contains("etcd at " + etcd.url() + " refused ETCD_AUTH_USERNAME dynamo")
        .doesNotContain("not-the-password")
        .doesNotContain("\tat ");
    assertThat(r.output().strip().lines().filter(l -> l.startsWith("dynamo-metrics:")).count())
        .isEqualTo(1);
  }

  @Test
  void aClientCertificateIsAcceptedAndItsAbsenceIsOneClearLine() throws Exception {
    // the key encrypted, its password in a file, as a Kubernetes Secret would mount it
    Path password = Files.writeString(ca.dir.resolve("client-key.pass"), TestCa.PASSWORD + "\n");
    Map<String, String> env =
        Map.of(
            "ETCD_ENDPOINTS",
            certEtcd.url(),
            "ETCD_AUTH_CA",
            ca.ca(),
            "ETCD_AUTH_CLIENT_CERT",
            ca.cert("client"),
            "ETCD_AUTH_CLIENT_KEY",
            ca.keyAs("client", "encrypted"),
            "ETCD_AUTH_CLIENT_KEY_PASSWORD_FILE",
            password.toString());
    int port = Servers.freePort();
    started.jar("etcdsec-cert-agg", env, aggregatorArgs("sec-cert", port));
    Jar.await(port, "/metrics", b -> b.contains("dynamo_metrics_leader 1.0"), WAIT);
    EtcdClient client =
        new EtcdClient(
            List.of(URI.create(certEtcd.url())),
            TlsFiles.load(
                    Path.of(ca.ca()),
                    Path.of(ca.cert("client")),
                    Path.of(ca.key("client")),
                    null,
                    "test")
                .clientContext(),
            null,
            null);
    assertThat(client.get(Layout.INSTANCES.singleton("sec-cert"))).contains("MyComponent");

    Jar.Result r =
        Jar.run(
            Map.of("ETCD_ENDPOINTS", certEtcd.url(), "ETCD_AUTH_CA", ca.ca()),
            aggregatorArgs("sec-nocert", Servers.freePort()));
    assertThat(r.exitCode()).as(r.output()).isEqualTo(2);
    assertThat(r.output())
        .contains("cannot reach etcd at " + certEtcd.url())
        .contains("ETCD_AUTH_CLIENT_CERT")
        .doesNotContain("\tat ");
    assertThat(r.output().strip().lines().filter(l -> l.startsWith("dynamo-metrics:")).count())
        .isEqualTo(1);
  }
}
