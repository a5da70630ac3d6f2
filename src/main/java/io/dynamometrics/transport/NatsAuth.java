package io.dynamometrics.transport;

import io.dynamometrics.tls.TlsFiles;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * NATS credentials from Dynamo's {@code NATS_AUTH_*} variables, first match wins: user and
 * password, token, NKey seed, credentials file. {@link #toString()} never shows a secret.
 */
public final class NatsAuth {
  private final String kind;
  private final Consumer<Options.Builder> applier;

  public static final NatsAuth NONE = new NatsAuth("none", b -> {});

  private NatsAuth(String kind, Consumer<Options.Builder> applier) {
    this.kind = kind;
    this.applier = applier;
  }

  /**
   * The credentials the variables give, or {@link #NONE}.
   *
   * @throws IllegalArgumentException naming the variable when a credential is unusable
   */
  public static NatsAuth fromEnv(Map<String, String> env) {
    String user = env.get("NATS_AUTH_USERNAME");
    String password = env.get("NATS_AUTH_PASSWORD");
    if (user != null && !user.isEmpty()) {
      if (password == null) {
        throw new IllegalArgumentException(
            "NATS_AUTH_USERNAME is set but NATS_AUTH_PASSWORD is not");
      }
      return new NatsAuth(
          "user " + user, b -> b.userInfo(user.toCharArray(), password.toCharArray()));
    }
    String token = env.get("NATS_AUTH_TOKEN");
    if (token != null && !token.isEmpty()) {
      return new NatsAuth("token", b -> b.token(token.toCharArray()));
    }
    String nkey = env.get("NATS_AUTH_NKEY");
    if (nkey != null && !nkey.isEmpty()) {
      if (!nkey.startsWith("SU")) {
        throw new IllegalArgumentException(
            "NATS_AUTH_NKEY must be a user NKey seed (starting with SU)");
      }
      return new NatsAuth(
          "nkey", b -> b.authHandler(Nats.staticCredentials(null, nkey.toCharArray())));
    }
    String file = env.get("NATS_AUTH_CREDENTIALS_FILE");
    if (file != null && !file.isEmpty()) {
      if (!Files.isReadable(Path.of(file))) {
        throw new IllegalArgumentException(
            "NATS_AUTH_CREDENTIALS_FILE " + file + " is not a readable file");
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
   * (client certificate and key; an encrypted key's password in {@code NATS_TLS_KEY_PASSWORD} or
   * the file named by {@code NATS_TLS_KEY_PASSWORD_FILE}), or {@code null} when none is set (a
   * {@code tls://} URL then uses the JVM's default trust).
   *
   * @throws IllegalArgumentException naming the variable whose file is unusable
   */
  public static SSLContext tlsFromEnv(Map<String, String> env) {
    TlsFiles files = TlsFiles.fromEnv(env, TlsFiles.NATS);
    return files == null ? null : files.clientContext();
  }

  @Override
  public String toString() {
    return kind;
  }
}
