package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.nats.client.NKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Aggregator and mock worker against nats-servers that require credentials or TLS. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NatsAuthIT {
  private static final Duration WAIT = Duration.ofSeconds(25);
  @RegisterExtension final Started started = new Started();

  private Servers.Nats nats(String... args) throws Exception {
    return started.nats(args);
  }

  private int fleet(Servers.Nats nats, Map<String, String> env, String name) throws Exception {
    started.jar(
        "auth-mock-" + name, env, "mock-worker", "--workers", "2", "--nats-server", nats.url());
    int port = Servers.freePort();
    started.jar("auth-agg-" + name, env, Jar.watching("dynamo", nats.url(), port));
    return port;
  }

  @Test
  void userAndPasswordAndTokenWork() throws Exception {
    Servers.Nats users = nats("--user", "dynamo", "--pass", "s3cret-pw");
    int p1 =
        fleet(
            users,
            Map.of("NATS_AUTH_USERNAME", "dynamo", "NATS_AUTH_PASSWORD", "s3cret-pw"),
            "user");
    Servers.Nats tokens = nats("--auth", "t0ken-value");
    int p2 = fleet(tokens, Map.of("NATS_AUTH_TOKEN", "t0ken-value"), "token");
    Jar.await(p1, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    Jar.await(p2, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    for (String log :
        new String[] {"auth-agg-user", "auth-agg-token", "auth-mock-user", "auth-mock-token"}) {
      String text = Files.readString(Jar.LOGS.resolve(log + ".log"));
      assertThat(text)
          .as("secrets never logged")
          .doesNotContain("s3cret-pw")
          .doesNotContain("t0ken-value");
    }
  }

  @Test
  void aTlsServerWithItsOwnCaAndClientCertificates() throws Exception {
    TestCa ca = new TestCa("server", "client");
    Servers.Nats secure =
        nats(
            "--tls",
            "--tlscert",
            ca.cert("server"),
            "--tlskey",
            ca.key("server"),
            "--tlscacert",
            ca.ca(),
            "--tlsverify");
    String url = "tls://127.0.0.1:" + secure.port;
    Map<String, String> env =
        Map.of(
            "NATS_TLS_CA",
            ca.ca(),
            "NATS_TLS_CERT",
            ca.cert("client"),
            "NATS_TLS_KEY",
            ca.keyAs("client", "pkcs1"));
    started.jar("tls-mock", env, "mock-worker", "--workers", "2", "--nats-server", url);
    int port = Servers.freePort();
    started.jar("tls-agg", env, Jar.watching("dynamo", url, port));
    Jar.await(port, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    // Without a client certificate the server closes the connection after the TLS 1.3 handshake,
    // which the client cannot tell from a slow server: it keeps serving, not ready, and retries.
    int noCertPort = Servers.freePort();
    started.jar("tls-agg-nocert", Map.of("NATS_TLS_CA", ca.ca()), Jar.serving(url, noCertPort));
    Jar.await(noCertPort, "/metrics", b -> b.contains("dynamo_metrics_nats_connected 0.0"), WAIT);
    assertThat(Jar.get(noCertPort, "/readyz").statusCode()).isEqualTo(503);
  }

  @Test
  void anNkeyUserWorks() throws Exception {
    NKey user = NKey.createUser(null);
    Path conf = Files.createTempFile("nats-nkey", ".conf");
    Files.writeString(
        conf,
        "authorization {\n  users = [ { nkey: " + new String(user.getPublicKey()) + " } ]\n}\n");
    Servers.Nats nkeys = nats("-c", conf.toString());
    String seed = new String(user.getSeed());
    int port = fleet(nkeys, Map.of("NATS_AUTH_NKEY", seed), "nkey");
    Jar.await(port, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    assertThat(Files.readString(Jar.LOGS.resolve("auth-agg-nkey.log"))).doesNotContain(seed);
  }

  @Test
  void aCredentialsFileOfAnOperatorTrustedServerWorks() throws Exception {
    Path dir = Files.createTempDirectory("natsjwt");
    NatsJwt jwt = new NatsJwt();
    Servers.Nats trusted = nats("-c", jwt.serverConfig(dir).toString());
    Path creds = jwt.userCredentials(dir, "dynamo-metrics");
    int port = fleet(trusted, Map.of("NATS_AUTH_CREDENTIALS_FILE", creds.toString()), "creds");
    Jar.await(port, "/metrics", b -> Jar.samples(b, "llm_kv_blocks_active").size() == 2, WAIT);
    String seed =
        Files.readAllLines(creds).stream()
            .filter(l -> l.startsWith("SU"))
            .findFirst()
            .orElseThrow();
    assertThat(Files.readString(Jar.LOGS.resolve("auth-agg-creds.log")))
        .doesNotContain(seed)
        .doesNotContain("eyJ");

    Jar.Result stranger =
        Jar.run(
            Map.of(
                "NATS_AUTH_CREDENTIALS_FILE", jwt.strangerCredentials(dir, "stranger").toString()),
            Jar.serving(trusted.url(), Servers.freePort()));
    assertThat(stranger.exitCode()).isEqualTo(2);
    assertThat(stranger.output())
        .contains("refused the credentials (credentials file")
        .doesNotContain("\tat ");
    Jar.Result missing =
        Jar.run(
            Map.of("NATS_AUTH_CREDENTIALS_FILE", dir.resolve("nope.creds").toString()),
            "mock-worker",
            "--nats-server",
            trusted.url());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.output())
        .contains("NATS_AUTH_CREDENTIALS_FILE")
        .contains("nope.creds")
        .contains("not a readable file");
  }

  @Test
  void wrongCredentialsAtStartGiveOneLineAndExitCode2() throws Exception {
    Servers.Nats users = nats("--user", "dynamo", "--pass", "s3cret-pw");
    Jar.Result r =
        Jar.run(
            Map.of("NATS_AUTH_USERNAME", "dynamo", "NATS_AUTH_PASSWORD", "wrong-pw"),
            Jar.serving(users.url(), Servers.freePort()));
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.output())
        .contains("refused the credentials")
        .contains("NATS_AUTH")
        .doesNotContain("wrong-pw")
        .doesNotContain("\tat ");
    Jar.Result mock =
        Jar.run(Map.of("NATS_AUTH_TOKEN", "nope"), "mock-worker", "--nats-server", users.url());
    assertThat(mock.exitCode()).isEqualTo(2);
    assertThat(mock.output()).contains("refused the credentials").doesNotContain("nope\n");
  }

  @Test
  void credentialsRefusedAtRunTimeAreCountedAndRetried() throws Exception {
    int natsPort = Servers.freePort();
    Servers.Nats first =
        new Servers.Nats(Jar.LOGS, natsPort, "--user", "dynamo", "--pass", "s3cret-pw");
    Map<String, String> env =
        Map.of("NATS_AUTH_USERNAME", "dynamo", "NATS_AUTH_PASSWORD", "s3cret-pw");
    int port = fleet(first, env, "rotated");
    Jar.await(
        port,
        "/metrics",
        b ->
            Jar.samples(b, "llm_kv_blocks_active").size() == 2
                && b.contains("dynamo_metrics_nats_refused_total 0.0"),
        WAIT);
    first.close();
    // the password was rotated on the server but not yet in the service: refused, counted, retried
    Servers.Nats rotated =
        new Servers.Nats(Jar.LOGS, natsPort, "--user", "dynamo", "--pass", "n3w-pw");
    try {
      Jar.await(
          port,
          "/metrics",
          b ->
              b.contains("dynamo_metrics_nats_connected 0.0")
                  && Jar.samples(b, "llm_kv_blocks_active").isEmpty()
                  && refused(b) >= 2,
          WAIT);
      assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(503);
    } finally {
      rotated.close();
    }
    // the old password is accepted again: the service was never closed and comes back by itself
    Servers.Nats back =
        new Servers.Nats(Jar.LOGS, natsPort, "--user", "dynamo", "--pass", "s3cret-pw");
    try {
      Jar.await(
          port,
          "/metrics",
          b ->
              b.contains("dynamo_metrics_nats_connected 1.0")
                  && Jar.samples(b, "llm_kv_blocks_active").size() == 2,
          WAIT);
      assertThat(Jar.get(port, "/readyz").statusCode()).isEqualTo(200);
    } finally {
      back.close();
    }
    String log = Files.readString(Jar.LOGS.resolve("auth-agg-rotated.log"));
    assertThat(log)
        .contains("refused this client")
        .doesNotContain("s3cret-pw")
        .doesNotContain("n3w-pw");
  }

  private static double refused(String metrics) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith("dynamo_metrics_nats_refused_total ")) {
        return Double.parseDouble(line.substring(line.indexOf(' ') + 1));
      }
    }
    return -1;
  }
}
