package io.dynamometrics.transport;

import io.nats.client.Nats;
import io.nats.client.Options;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * NATS credentials from Dynamo's {@code NATS_AUTH_*} variables, first match wins: user and
 * password, token, NKey seed, credentials file. {@link #toString()} never shows a secret.
 */
public final class NatsAuth {
  private final String kind;
  private final java.util.function.Consumer<Options.Builder> applier;

  private NatsAuth(String kind, java.util.function.Consumer<Options.Builder> applier) {
    this.kind = kind;
    this.applier = applier;
  }

  public static final NatsAuth NONE = new NatsAuth("none", b -> {});

  /**
   * @throws IllegalArgumentException naming the variable when a credential is unusable
   */
  public static NatsAuth fromEnv(Map<String, String> env) {
    String user = env.get("NATS_AUTH_USERNAME");
    String password = env.get("NATS_AUTH_PASSWORD");
    if (user != null && !user.isEmpty()) {
      if (password == null) {
        throw new IllegalArgumentException("NATS_AUTH_USERNAME is set but NATS_AUTH_PASSWORD is not");
      }
      return new NatsAuth("user " + user, b -> b.userInfo(user.toCharArray(), password.toCharArray()));
    }
    String token = env.get("NATS_AUTH_TOKEN");
    if (token != null && !token.isEmpty()) {
      return new NatsAuth("token", b -> b.token(token.toCharArray()));
    }
    String nkey = env.get("NATS_AUTH_NKEY");
    if (nkey != null && !nkey.isEmpty()) {
      if (!nkey.startsWith("SU")) {
        throw new IllegalArgumentException("NATS_AUTH_NKEY must be a user NKey seed (starting with SU)");
      }
      return new NatsAuth("nkey", b -> b.authHandler(Nats.staticCredentials(null, nkey.toCharArray())));
    }
    String file = env.get("NATS_AUTH_CREDENTIALS_FILE");
    if (file != null && !file.isEmpty()) {
      if (!Files.isReadable(Path.of(file))) {
        throw new IllegalArgumentException("NATS_AUTH_CREDENTIALS_FILE " + file + " is not a readable file");
      }
      return new NatsAuth("credentials file " + file, b -> b.authHandler(Nats.credentials(file)));
    }
    return NONE;
  }

  void apply(Options.Builder builder) {
    applier.accept(builder);
  }

  /**
   * TLS from {@code NATS_TLS_CA} (trusted CA, PEM) and {@code NATS_TLS_CERT}/{@code NATS_TLS_KEY}
   * (client certificate and PKCS#8 key, PEM), or {@code null} when none is set (a {@code tls://}
   * URL then uses the JVM's default trust).
   *
   * @throws IllegalArgumentException naming the variable whose file is unusable
   */
  public static javax.net.ssl.SSLContext tlsFromEnv(Map<String, String> env) {
    String ca = blank(env.get("NATS_TLS_CA"));
    String cert = blank(env.get("NATS_TLS_CERT"));
    String key = blank(env.get("NATS_TLS_KEY"));
    if (ca == null && cert == null && key == null) {
      return null;
    }
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("NATS_TLS_CERT and NATS_TLS_KEY must be set together");
    }
    return io.dynamometrics.tls.Pem.context(ca, cert, key, "NATS_TLS_CA/CERT/KEY");
  }

  private static String blank(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  @Override
  public String toString() {
    return kind;
  }
}
