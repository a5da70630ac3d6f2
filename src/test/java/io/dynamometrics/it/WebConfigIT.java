package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.tls.TlsFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * TLS and basic auth on every endpoint, checked with an HTTP client and a real Prometheus scraping
 * through both.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebConfigIT {
  @RegisterExtension final Started started = new Started();

  /**
   * The case that once passed unprotected: client certificates required, a client without one must
   * not get in.
   */
  @Test
  void everyEndpointNeedsAClientCertificateAndThePasswordAndPrometheusScrapesThroughBoth()
      throws Exception {
    TestCa ca = new TestCa("server", "prometheus");
    Path dir = ca.dir;
    String hash =
        BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(10, "scrape-pw".toCharArray());
    Files.writeString(
        dir.resolve("web.yml"),
        "tls_server_config:\n  cert_file: server.pem\n  key_file: "
            + ca.keyAs("server", "pkcs1")
            + "\n"
            + "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
            + "basic_auth_users:\n  prometheus: '"
            + hash
            + "'\n");

    int port = Servers.freePort();
    started.jar(
        "webconfig-aggregator",
        Jar.serving(
            "nats://127.0.0.1:" + Servers.freePort(),
            port,
            "--web-config",
            dir.resolve("web.yml").toString()));
    HttpClient https =
        HttpClient.newBuilder()
            .sslContext(
                TlsFiles.load(
                        Path.of(ca.ca()),
                        Path.of(ca.cert("prometheus")),
                        Path.of(ca.key("prometheus")),
                        null,
                        "test client")
                    .clientContext())
            .build();
    HttpClient noCertificate =
        HttpClient.newBuilder()
            .sslContext(
                TlsFiles.load(Path.of(ca.ca()), null, null, null, "test CA").clientContext())
            .build();
    URI healthz = URI.create("https://localhost:" + port + "/healthz");
    int status =
        await()
            .atMost(Duration.ofSeconds(20))
            .ignoreExceptionsInstanceOf(IOException.class)
            .until(
                () ->
                    https
                        .send(
                            HttpRequest.newBuilder(healthz).build(),
                            HttpResponse.BodyHandlers.discarding())
                        .statusCode(),
                s -> true);
    assertThat(status).as("no credentials").isEqualTo(401);
    int withoutCertificate;
    try {
      withoutCertificate =
          noCertificate
              .send(get(healthz, "prometheus", "scrape-pw"), HttpResponse.BodyHandlers.discarding())
              .statusCode();
    } catch (IOException refused) {
      withoutCertificate = -1;
    }
    assertThat(withoutCertificate)
        .as("a client with the password but no certificate is refused in TLS")
        .isEqualTo(-1);
    for (String path : new String[] {"/healthz", "/metrics", "/api/v1/fleet", "/"}) {
      URI uri = URI.create("https://localhost:" + port + path);
      assertThat(
              https
                  .send(get(uri, "prometheus", "wrong"), HttpResponse.BodyHandlers.discarding())
                  .statusCode())
          .as(path)
          .isEqualTo(401);
      assertThat(
              https
                  .send(get(uri, "prometheus", "scrape-pw"), HttpResponse.BodyHandlers.discarding())
                  .statusCode())
          .as(path)
          .isEqualTo(200);
    }
    // Plain HTTP gets nothing useful from a TLS port.
    boolean plainWorked;
    try {
      plainWorked =
          HttpClient.newHttpClient()
                  .send(
                      HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                          .timeout(Duration.ofSeconds(3))
                          .build(),
                      HttpResponse.BodyHandlers.discarding())
                  .statusCode()
              == 200;
    } catch (IOException refused) {
      plainWorked = false;
    }
    assertThat(plainWorked).isFalse();

    int promPort = Servers.freePort();
    Files.writeString(
        dir.resolve("prometheus.yml"),
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: dm\n"
            + "    scheme: https\n    tls_config:\n      ca_file: "
            + ca.ca()
            + "\n      server_name: localhost\n"
            + "      cert_file: "
            + ca.cert("prometheus")
            + "\n      key_file: "
            + ca.key("prometheus")
            + "\n"
            + "    basic_auth:\n      username: prometheus\n      password: scrape-pw\n"
            + "    static_configs:\n      - targets: ['127.0.0.1:"
            + port
            + "']\n");
    started.process(
        Servers.start(
            Jar.LOGS.resolve("webconfig-prometheus.log"),
            Servers.binary("prometheus"),
            "--config.file=" + dir.resolve("prometheus.yml"),
            "--storage.tsdb.path=" + dir.resolve("data"),
            "--web.listen-address=127.0.0.1:" + promPort));
    URI targets = URI.create("http://127.0.0.1:" + promPort + "/api/v1/targets");
    await("Prometheus scrapes through mutual TLS and basic auth")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptionsInstanceOf(IOException.class)
        .until(
            () ->
                new ObjectMapper()
                    .readTree(
                        HttpClient.newHttpClient()
                            .send(
                                HttpRequest.newBuilder(targets).build(),
                                HttpResponse.BodyHandlers.ofString())
                            .body())
                    .at("/data/activeTargets/0/health")
                    .asText(),
            "up"::equals);
    assertThat(Files.readString(Jar.LOGS.resolve("webconfig-aggregator.log")))
        .doesNotContain("scrape-pw");
  }

  @Test
  void aBadWebConfigIsOneLineAndExitCode2() throws Exception {
    Path bad = Files.createTempFile("web", ".yml");
    Files.writeString(bad, "basic_auth_user:\n  a: b\n");
    Jar.Result r =
        Jar.run("--web-config", bad.toString(), "--port", Integer.toString(Servers.freePort()));
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.output()).contains("unknown key 'basic_auth_user'").doesNotContain("\tat ");
    Files.writeString(
        bad,
        "tls_server_config:\n  cert_file: a.pem\n  key_file: a.key\n  client_auth_typ: RequireAndVerifyClientCert\n");
    Jar.Result nested =
        Jar.run("--web-config", bad.toString(), "--port", Integer.toString(Servers.freePort()));
    assertThat(nested.exitCode()).isEqualTo(2);
    assertThat(nested.output())
        .contains("unknown key 'tls_server_config.client_auth_typ'")
        .contains(bad.toString())
        .doesNotContain("\tat ");
    Files.writeString(bad, "basic_auth_users:\n  a: plaintext\n");
    Jar.Result plain =
        Jar.run("--web-config", bad.toString(), "--port", Integer.toString(Servers.freePort()));
    assertThat(plain.exitCode()).isEqualTo(2);
    assertThat(plain.output()).contains("bcrypt").doesNotContain("plaintext\n");
  }

  private static HttpRequest get(URI uri, String user, String password) {
    String basic =
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    return HttpRequest.newBuilder(uri)
        .header("Authorization", "Basic " + basic)
        .timeout(Duration.ofSeconds(10))
        .build();
  }
}
