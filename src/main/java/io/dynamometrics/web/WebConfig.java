package io.dynamometrics.web;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.dynamometrics.tls.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;

/**
 * HTTP protection in the spirit of Prometheus' {@code --web.config.file}: TLS from PEM files and
 * basic auth users with bcrypt hashes, for every endpoint.
 *
 * <pre>
 * tls_server_config:
 *   cert_file: server.crt
 *   key_file: server.key
 * basic_auth_users:
 *   prometheus: $2y$10$...
 * </pre>
 */
public final class WebConfig {
  private final SSLContext tls;
  private final Map<String, String> users;
  private final Set<String> verified = ConcurrentHashMap.newKeySet(); // sha-256 of user:password that passed bcrypt

  private WebConfig(SSLContext tls, Map<String, String> users) {
    this.tls = tls;
    this.users = users;
  }

  public static final WebConfig NONE = new WebConfig(null, Map.of());

  /** @throws IllegalArgumentException naming the file and what is wrong in it */
  public static WebConfig load(Path file) {
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("web config " + file + " is not readable YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("web config " + file + " must be a YAML mapping");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!key.equals("tls_server_config") && !key.equals("basic_auth_users")) {
        throw new IllegalArgumentException("web config " + file + ": unknown key '" + key + "' (expected tls_server_config, basic_auth_users)");
      }
    }
    SSLContext tls = null;
    JsonNode t = root.path("tls_server_config");
    if (!t.isMissingNode()) {
      String cert = t.path("cert_file").asText(null);
      String key = t.path("key_file").asText(null);
      if (cert == null || key == null) {
        throw new IllegalArgumentException("web config " + file + ": tls_server_config needs cert_file and key_file");
      }
      Path dir = file.toAbsolutePath().getParent();
      tls = Pem.context(null, dir.resolve(cert).toString(), dir.resolve(key).toString(), "web config " + file);
    }
    Map<String, String> users = new TreeMap<>();
    JsonNode u = root.path("basic_auth_users");
    if (!u.isMissingNode()) {
      u.fields().forEachRemaining(e -> {
        String hash = e.getValue().asText("");
        if (!hash.startsWith("$2")) {
          throw new IllegalArgumentException("web config " + file + ": the password of '" + e.getKey() + "' must be a bcrypt hash ($2y$...)");
        }
        users.put(e.getKey(), hash);
      });
    }
    return new WebConfig(tls, Map.copyOf(users));
  }

  /** The server's TLS context, or {@code null} for plain HTTP. */
  public SSLContext tls() {
    return tls;
  }

  public boolean requiresAuth() {
    return !users.isEmpty();
  }

  /** Checks a user's password; bcrypt is slow on purpose, so a pair that passed once is remembered (hashed). */
  public boolean check(String user, String password) {
    String hash = users.get(user);
    if (hash == null) {
      return false;
    }
    String key = sha256(user + "\u0000" + password + "\u0000" + hash);
    if (verified.contains(key)) {
      return true;
    }
    boolean ok = BCrypt.verifyer().verify(password.getBytes(StandardCharsets.UTF_8), hash.getBytes(StandardCharsets.UTF_8)).verified;
    if (ok) {
      verified.add(key);
    }
    return ok;
  }

  private static String sha256(String s) {
    try {
      return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
