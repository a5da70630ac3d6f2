package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dynamometrics.web.WebConfig;
import io.dynamometrics.web.WebServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The web config's TLS keys, each tried with a real client (curl, OpenSSL) against the service's
 * HTTPS server: every client_auth_type with no certificate, the CA's certificate and a stranger's,
 * client_allowed_sans, protocol versions, cipher suites, and every key encoding operators have.
 */
class WebTlsIT {
  private static TestCa ca;

  @BeforeAll
  static void certificates() throws Exception {
    ca = new TestCa("server", "client");
    ca.selfSigned("stranger");
    ca.identity("ecserver", "ec");
    ca.identity("edserver", "ed25519");
    Files.writeString(ca.dir.resolve("key.pass"), TestCa.PASSWORD + "\n");
  }

  /**
   * Go's meanings: whether a client without a certificate, with the CA's, and with a stranger's
   * gets in.
   */
  @ParameterizedTest
  @CsvSource({
    "NoClientCert,               200, 200, 200",
    "RequestClientCert,          200, 200, 200",
    "RequireAnyClientCert,       failed, 200, 200",
    "VerifyClientCertIfGiven,    200, 200, failed",
    "RequireAndVerifyClientCert, failed, 200, failed"
  })
  void clientAuthTypes(String type, String none, String signed, String stranger) throws Exception {
    String caLine = type.contains("Verify") ? "  client_ca_file: " + ca.ca() + "\n" : "";
    try (Served s = serve("client_auth_type: " + type + "\n" + caLine)) {
      assertThat(s.curl()).as("no certificate").isEqualTo(none);
      assertThat(s.curl("--cert", ca.cert("client"), "--key", ca.key("client")))
          .as("the CA's certificate")
          .isEqualTo(signed);
      assertThat(s.curl("--cert", ca.cert("stranger"), "--key", ca.key("stranger")))
          .as("a stranger's certificate")
          .isEqualTo(stranger);
    }
  }

  @Test
  void clientAllowedSansNarrowsVerifiedClients() throws Exception {
    String base =
        "client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: " + ca.ca() + "\n";
    try (Served s = serve(base + "  client_allowed_sans: [prometheus.monitoring.svc]\n")) {
      assertThat(s.curl("--cert", ca.cert("client"), "--key", ca.key("client"))).isEqualTo("403");
    }
    try (Served s = serve(base + "  client_allowed_sans: [localhost]\n")) {
      assertThat(s.curl("--cert", ca.cert("client"), "--key", ca.key("client"))).isEqualTo("200");
    }
  }

  @Test
  void versionsAndCipherSuitesAreHonoured() throws Exception {
    try (Served s = serve("max_version: TLS12\n")) {
      assertThat(s.curl("--tls-max", "1.2")).isEqualTo("200");
      assertThat(s.curl("--tlsv1.3")).isEqualTo("failed");
    }
    try (Served s = serve("min_version: TLS13\n")) {
      assertThat(s.curl("--tlsv1.3")).isEqualTo("200");
      assertThat(s.curl("--tls-max", "1.2")).isEqualTo("failed");
    }
    try (Served s =
        serve("max_version: TLS12\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n")) {
      assertThat(s.curl("--ciphers", "ECDHE-RSA-AES256-GCM-SHA384")).isEqualTo("200");
      assertThat(s.curl("--ciphers", "ECDHE-RSA-AES128-GCM-SHA256")).isEqualTo("failed");
    }
  }

  /** The server's key in every encoding: PKCS#8, PKCS#1, SEC1 (EC), Ed25519, encrypted PKCS#8. */
  @ParameterizedTest
  @ValueSource(strings = {"pkcs8", "pkcs1", "sec1", "ed25519", "encrypted"})
  void everyKeyEncodingServes(String form) throws Exception {
    String cert = ca.cert("server");
    String key =
        switch (form) {
          case "pkcs8" -> ca.key("server");
          case "pkcs1", "encrypted" -> ca.keyAs("server", form);
          case "sec1" -> {
            cert = ca.cert("ecserver");
            yield ca.key("ecserver");
          }
          default -> {
            cert = ca.cert("edserver");
            yield ca.key("edserver");
          }
        };
    String head =
        Files.readString(Path.of(key))
            .lines()
            .filter(l -> l.startsWith("-----BEGIN"))
            .toList()
            .toString();
    assertThat(head)
        .as("openssl wrote the form under test")
        .contains(
            switch (form) {
              case "pkcs1" -> "RSA PRIVATE KEY";
              case "sec1" -> "EC PRIVATE KEY";
              case "encrypted" -> "ENCRYPTED PRIVATE KEY";
              default -> "BEGIN PRIVATE KEY";
            });
    String password = form.equals("encrypted") ? "  key_password_file: key.pass\n" : "";
    try (Served s =
        new Served(
            "tls_server_config:\n  cert_file: "
                + cert
                + "\n  key_file: "
                + key
                + "\n"
                + password)) {
      assertThat(s.curl()).isEqualTo("200");
    }
  }

  @Test
  void unusableKeysAndUnknownKeysAreOneLineErrors() throws Exception {
    String encrypted = ca.keyAs("server", "encrypted");
    assertThat(
            error("  cert_file: " + ca.cert("server") + "\n  key_file: " + ca.key("client") + "\n"))
        .contains("does not belong to the certificate")
        .contains("client.key")
        .contains("server.pem");
    assertThat(error("  cert_file: " + ca.cert("server") + "\n  key_file: " + encrypted + "\n"))
        .contains("is encrypted; give its password");
    Files.writeString(ca.dir.resolve("wrong.pass"), "not-it\n");
    assertThat(
            error(
                "  cert_file: "
                    + ca.cert("server")
                    + "\n  key_file: "
                    + encrypted
                    + "\n  key_password_file: wrong.pass\n"))
        .contains("could not be decrypted");
    assertThat(
            error(
                "  cert_file: "
                    + ca.cert("server")
                    + "\n  key_file: "
                    + ca.keyAs("server", "legacy-encrypted")
                    + "\n"))
        .contains("legacy form")
        .contains("openssl pkcs8 -topk8");
    String tls = "  cert_file: " + ca.cert("server") + "\n  key_file: " + ca.key("server") + "\n";
    assertThat(error(tls + "  client_auth_typ: RequireAndVerifyClientCert\n"))
        .contains("unknown key 'tls_server_config.client_auth_typ'");
    assertThat(error(tls + "  client_auth_type: RequireAndVerify\n"))
        .contains("client_auth_type 'RequireAndVerify' is not one of");
    assertThat(error(tls + "  client_auth_type: RequireAndVerifyClientCert\n"))
        .contains("needs client_ca_file");
    assertThat(error(tls + "  client_ca_file: " + ca.ca() + "\n"))
        .contains("does not verify client certificates");
    assertThat(error(tls + "  cipher_suites: [TLS_NOT_A_SUITE]\n")).contains("'TLS_NOT_A_SUITE'");
    assertThat(error(tls + "  min_version: TLS14\n")).contains("min_version 'TLS14'");
    assertThat(error(tls + "  min_version: TLS13\n  max_version: TLS12\n"))
        .contains("above max_version");
    for (String message : List.of(error(tls + "  client_auth_typ: x\n"))) {
      assertThat(message.lines().count()).isEqualTo(1);
    }
  }

  @Test
  void unknownKeysOutsideTlsAreErrorsToo() throws Exception {
    assertThat(loadError("http_server_config:\n  http3: true\n"))
        .contains("unknown key 'http_server_config.http3'");
    assertThat(loadError("http_server_config:\n  headers:\n    Server: x\n"))
        .contains("'Server' cannot be set");
    assertThat(loadError("basic_auth_users: [a, b]\n"))
        .contains("basic_auth_users must be a YAML mapping");
  }

  @Test
  void configuredHeadersAreOnEveryResponse() throws Exception {
    try (Served s =
        new Served(
            "tls_server_config:\n  cert_file: "
                + ca.cert("server")
                + "\n  key_file: "
                + ca.key("server")
                + "\n"
                + "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n")) {
      assertThat(s.curl("-D", "-", "-o", "/dev/null", "-w", ""))
          .containsIgnoringCase("Strict-Transport-Security: max-age=31536000");
    }
  }

  private static String error(String tlsBody) throws Exception {
    return loadError("tls_server_config:\n" + tlsBody);
  }

  private static String loadError(String yaml) throws Exception {
    Path file = Files.createTempFile(ca.dir, "web", ".yml");
    Files.writeString(file, yaml);
    var thrown =
        assertThatThrownBy(() -> WebConfig.load(file))
            .isInstanceOf(IllegalArgumentException.class)
            .actual();
    return thrown.getMessage();
  }

  private static Served serve(String tlsExtra) throws Exception {
    return new Served(
        "tls_server_config:\n  cert_file: "
            + ca.cert("server")
            + "\n  key_file: "
            + ca.key("server")
            + "\n  "
            + tlsExtra);
  }

  /** The service's HTTPS server on a free loopback port with one web config. */
  private static final class Served implements AutoCloseable {
    private final WebServer server;

    Served(String yaml) throws Exception {
      Path file = Files.createTempFile(ca.dir, "web", ".yml");
      Files.writeString(file, yaml);
      server =
          new WebServer(
              "127.0.0.1", 0, new PrometheusRegistry(), () -> null, Map.of(), WebConfig.load(file));
    }

    /** curl's HTTP status for /healthz, or "failed" when the TLS handshake or exchange failed. */
    String curl(String... extra) throws Exception {
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "curl",
                  "-sS",
                  "--max-time",
                  "10",
                  "--cacert",
                  ca.ca(),
                  "-o",
                  "/dev/null",
                  "-w",
                  "%{http_code}"));
      cmd.addAll(List.of(extra));
      cmd.add("https://localhost:" + server.port() + "/healthz");
      Process p = new ProcessBuilder(cmd).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      if (rc != 0) {
        assertThat(err)
            .as("curl failed in TLS, not elsewhere")
            .containsAnyOf("SSL", "alert", "certificate", "TLS", "reset", "handshake");
        return "failed";
      }
      return out;
    }

    @Override
    public void close() {
      server.close();
    }
  }
}
