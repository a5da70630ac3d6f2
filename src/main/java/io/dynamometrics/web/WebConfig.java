package io.dynamometrics.web;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.dynamometrics.tls.TlsFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP protection from a file in the format of Prometheus' {@code --web.config.file}: TLS (with
 * client certificates), basic auth users with bcrypt hashes, and security headers, for every
 * endpoint. Every key is checked: one this service does not know is an error, never ignored.
 *
 * <pre>
 * tls_server_config:
 *   cert_file: server.crt          # PEM, a chain may follow the leaf
 *   key_file: server.key           # PKCS#8, PKCS#1 RSA, SEC1 EC, or encrypted PKCS#8 with:
 *   key_password_file: key.pass    #   (dynamo-metrics' own key) the password's file
 *   client_auth_type: RequireAndVerifyClientCert
 *   client_ca_file: ca.crt
 *   client_allowed_sans: [prometheus.monitoring.svc]
 *   min_version: TLS12             # TLS10 .. TLS13
 *   max_version: TLS13
 *   cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]   # TLS 1.2 and below, as in Go
 *   curve_preferences: [X25519, CurveP256]
 *   prefer_server_cipher_suites: true
 * http_server_config:
 *   http2: true                    # accepted; this server speaks HTTP/1.1
 *   headers: {Strict-Transport-Security: max-age=31536000}
 * basic_auth_users:
 *   prometheus: $2y$10$...
 * </pre>
 */
public final class WebConfig {
  private static final Set<String> TOP =
      Set.of("tls_server_config", "http_server_config", "basic_auth_users");
  private static final Set<String> TLS_KEYS =
      Set.of(
          "cert_file",
          "key_file",
          "key_password_file",
          "client_auth_type",
          "client_ca_file",
          "client_allowed_sans",
          "min_version",
          "max_version",
          "cipher_suites",
          "curve_preferences",
          "prefer_server_cipher_suites");
  private static final Set<String> HTTP_KEYS = Set.of("http2", "headers");

  /** The headers Prometheus' web config lets an operator set. */
  private static final Set<String> HEADERS =
      Set.of(
          "Content-Security-Policy",
          "X-Frame-Options",
          "X-Content-Type-Options",
          "X-XSS-Protection",
          "Strict-Transport-Security");

  private static final Map<String, String> VERSIONS =
      Map.of("TLS10", "TLSv1", "TLS11", "TLSv1.1", "TLS12", "TLSv1.2", "TLS13", "TLSv1.3");
  private static final List<String> VERSION_ORDER = List.of("TLS10", "TLS11", "TLS12", "TLS13");
  private static final Map<String, String> CURVES =
      Map.of(
          "CurveP256",
          "secp256r1",
          "CurveP384",
          "secp384r1",
          "CurveP521",
          "secp521r1",
          "X25519",
          "x25519");

  public static final WebConfig NONE = new WebConfig(null, Map.of(), Map.of());

  private final ServerTls tls;
  private final Map<String, String> users;
  private final Map<String, String> headers;
  private final Set<String> verified =
      ConcurrentHashMap.newKeySet(); // sha-256 of user:password that passed bcrypt

  private WebConfig(ServerTls tls, Map<String, String> users, Map<String, String> headers) {
    this.tls = tls;
    this.users = users;
    this.headers = headers;
  }

  /**
   * Reads and checks {@code file}; an empty file means no protection, as in Prometheus.
   *
   * @throws IllegalArgumentException one line naming the file and what is wrong in it
   */
  public static WebConfig load(Path file) {
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "web config "
              + file
              + " is not readable YAML: "
              + e.getMessage().lines().findFirst().orElse(""));
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return NONE; // an empty file, as Prometheus takes it: no protection
    }
    Reader r = new Reader(file);
    r.keys(root, "", TOP);
    Path dir = file.toAbsolutePath().getParent();
    ServerTls tls =
        root.has("tls_server_config")
            ? r.tls(r.mapping(root.get("tls_server_config"), "tls_server_config"), dir)
            : null;
    Map<String, String> headers = new LinkedHashMap<>();
    if (root.has("http_server_config")) {
      JsonNode http = r.mapping(root.get("http_server_config"), "http_server_config");
      r.keys(http, "http_server_config.", HTTP_KEYS);
      r.bool(http, "http_server_config.", "http2", true);
      if (http.has("headers")) {
        JsonNode h = r.mapping(http.get("headers"), "http_server_config.headers");
        for (Iterator<String> it = h.fieldNames(); it.hasNext(); ) {
          String name = it.next();
          if (HEADERS.stream().noneMatch(name::equalsIgnoreCase)) {
            throw r.error(
                "http_server_config.headers: '"
                    + name
                    + "' cannot be set (allowed: "
                    + String.join(", ", HEADERS.stream().sorted().toList())
                    + ")");
          }
          headers.put(name, r.text(h, "http_server_config.headers.", name));
        }
      }
    }
    Map<String, String> users = new TreeMap<>();
    if (root.has("basic_auth_users")) {
      JsonNode u = r.mapping(root.get("basic_auth_users"), "basic_auth_users");
      for (Iterator<String> it = u.fieldNames(); it.hasNext(); ) {
        String user = it.next();
        String hash = r.text(u, "basic_auth_users.", user);
        if (!hash.startsWith("$2")) {
          throw r.error("the password of '" + user + "' must be a bcrypt hash ($2y$...)");
        }
        users.put(user, hash);
      }
    }
    return new WebConfig(tls, Map.copyOf(users), Map.copyOf(headers));
  }

  /** Reads one file strictly; every error names the file and the key. */
  private record Reader(Path file) {
    IllegalArgumentException error(String what) {
      return new IllegalArgumentException("web config " + file + ": " + what);
    }

    void keys(JsonNode node, String prefix, Set<String> known) {
      if (!node.isObject()) {
        throw error(
            (prefix.isEmpty() ? "the file" : prefix.substring(0, prefix.length() - 1))
                + " must be a YAML mapping");
      }
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String key = it.next();
        if (!known.contains(key)) {
          throw error(
              "unknown key '"
                  + prefix
                  + key
                  + "' (expected one of "
                  + String.join(", ", known.stream().sorted().toList())
                  + ")");
        }
      }
    }

    JsonNode mapping(JsonNode node, String key) {
      if (!node.isObject()) {
        throw error(key + " must be a YAML mapping");
      }
      return node;
    }

    String text(JsonNode parent, String prefix, String key) {
      JsonNode v = parent.get(key);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isTextual() && !v.isNumber()) {
        throw error(prefix + key + " must be a string");
      }
      return v.asText();
    }

    boolean bool(JsonNode parent, String prefix, String key, boolean otherwise) {
      JsonNode v = parent.get(key);
      if (v == null || v.isNull()) {
        return otherwise;
      }
      if (!v.isBoolean()) {
        throw error(prefix + key + " must be true or false, not '" + v.asText() + "'");
      }
      return v.booleanValue();
    }

    List<String> list(JsonNode parent, String prefix, String key) {
      JsonNode v = parent.get(key);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isArray()) {
        throw error(prefix + key + " must be a list");
      }
      List<String> out = new ArrayList<>();
      v.forEach(e -> out.add(e.asText()));
      return out;
    }

    ServerTls tls(JsonNode t, Path dir) {
      String p = "tls_server_config.";
      keys(t, p, TLS_KEYS);
      String cert = text(t, p, "cert_file");
      String key = text(t, p, "key_file");
      if (cert == null || key == null) {
        throw error("tls_server_config needs cert_file and key_file");
      }
      String role = "web config " + file;
      String passwordFile = text(t, p, "key_password_file");
      char[] password =
          passwordFile == null
              ? null
              : TlsFiles.passwordFile(dir.resolve(passwordFile), role + " key_password_file");
      TlsFiles server = TlsFiles.load(null, dir.resolve(cert), dir.resolve(key), password, role);

      String authName = text(t, p, "client_auth_type");
      ServerTls.ClientAuth auth;
      try {
        auth =
            authName == null
                ? ServerTls.ClientAuth.NoClientCert
                : ServerTls.ClientAuth.valueOf(authName);
      } catch (IllegalArgumentException e) {
        throw error(
            "client_auth_type '"
                + authName
                + "' is not one of "
                + Arrays.toString(ServerTls.ClientAuth.values()));
      }
      String caFile = text(t, p, "client_ca_file");
      if (caFile != null && !auth.verify) {
        throw error(
            "client_ca_file is set but client_auth_type "
                + auth
                + " does not verify client certificates "
                + "(use VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
      }
      if (auth.verify && caFile == null) {
        throw error(
            "client_auth_type "
                + auth
                + " needs client_ca_file, the CA that signs client certificates");
      }
      TlsFiles clientCas =
          caFile == null
              ? null
              : TlsFiles.load(dir.resolve(caFile), null, null, null, role + " client_ca_file");
      List<String> sans = list(t, p, "client_allowed_sans");
      if (sans != null && !auth.verify) {
        throw error("client_allowed_sans needs a client_auth_type that verifies certificates");
      }

      String min = version(t, "min_version", "TLS12");
      String max = version(t, "max_version", "TLS13");
      List<String> protocols = new ArrayList<>();
      for (String v :
          VERSION_ORDER.subList(VERSION_ORDER.indexOf(min), VERSION_ORDER.indexOf(max) + 1)) {
        protocols.add(VERSIONS.get(v));
      }
      if (protocols.isEmpty()) {
        throw error("min_version " + min + " is above max_version " + max);
      }

      var supported = ServerTls.supported();
      List<String> suites = list(t, p, "cipher_suites");
      if (suites != null) {
        Set<String> known = Set.of(supported.getCipherSuites());
        for (String s : suites) {
          if (!known.contains(s)) {
            throw error(
                "cipher_suites: '" + s + "' is not a cipher suite this Java runtime supports");
          }
        }
        // as in Go, the list governs TLS 1.2 and below; TLS 1.3's suites stay on
        Set<String> enabled = new LinkedHashSet<>(suites);
        for (String s : supported.getCipherSuites()) {
          if (s.startsWith("TLS_AES_") || s.startsWith("TLS_CHACHA20_")) {
            enabled.add(s);
          }
        }
        suites = List.copyOf(enabled);
      }
      List<String> curves = list(t, p, "curve_preferences");
      List<String> groups = null;
      if (curves != null) {
        groups = new ArrayList<>();
        for (String c : curves) {
          String g = CURVES.get(c);
          if (g == null) {
            throw error(
                "curve_preferences: '" + c + "' is not one of " + new TreeMap<>(CURVES).keySet());
          }
          groups.add(g);
        }
      }
      boolean prefer = bool(t, p, "prefer_server_cipher_suites", true);
      return new ServerTls(
          server,
          clientCas,
          auth,
          protocols,
          suites,
          groups,
          prefer,
          sans == null ? Set.of() : Set.copyOf(sans));
    }

    private String version(JsonNode t, String key, String otherwise) {
      String v = text(t, "tls_server_config.", key);
      if (v == null) {
        return otherwise;
      }
      if (!VERSIONS.containsKey(v)) {
        throw error(key + " '" + v + "' is not one of " + VERSION_ORDER);
      }
      return v;
    }
  }

  /** The server's TLS policy, or {@code null} for plain HTTP. */
  ServerTls tls() {
    return tls;
  }

  boolean requiresAuth() {
    return !users.isEmpty();
  }

  /** Headers to add to every response. */
  Map<String, String> headers() {
    return headers;
  }

  /**
   * Checks a user's password; bcrypt is slow on purpose, so a pair that passed once is remembered
   * (hashed).
   */
  boolean check(String user, String password) {
    String hash = users.get(user);
    if (hash == null) {
      return false;
    }
    String key = sha256(user + "\u0000" + password + "\u0000" + hash);
    if (verified.contains(key)) {
      return true;
    }
    boolean ok =
        BCrypt.verifyer()
            .verify(
                password.getBytes(StandardCharsets.UTF_8), hash.getBytes(StandardCharsets.UTF_8))
            .verified;
    if (ok) {
      verified.add(key);
    }
    return ok;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
