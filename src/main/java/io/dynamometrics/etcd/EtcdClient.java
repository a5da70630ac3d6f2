package io.dynamometrics.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * A small etcd v3 client over its JSON gateway ({@code /v3/...}) and the JDK HTTP client: the few
 * calls the aggregator needs (leases, create-if-absent, get, range, delete). Endpoints are tried in
 * turn, starting with the last one that answered. Keys and values are base64 on the wire and 64-bit
 * numbers are strings; callers see plain strings and longs. Thread-safe.
 */
public final class EtcdClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getEncoder();
  private static final Base64.Decoder B64D = Base64.getDecoder();

  private final List<URI> endpoints;
  private final HttpClient http;
  private final String user;
  private final String password;
  private volatile int preferred;
  private volatile String token;

  /**
   * @param endpoints base URLs such as {@code http://127.0.0.1:2379}
   * @param ssl for {@code https} endpoints with a private CA or client certificate, else {@code
   *     null}
   * @param user for etcd authentication, or {@code null}
   */
  public EtcdClient(List<URI> endpoints, SSLContext ssl, String user, String password) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no etcd endpoints");
    }
    this.endpoints = List.copyOf(endpoints);
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    if (ssl != null) {
      b.sslContext(ssl);
    }
    this.http = b.build();
    this.user = user;
    this.password = password;
  }

  /** Grants a lease of {@code ttlSeconds}; returns its id. */
  public long grantLease(long ttlSeconds) throws IOException {
    JsonNode r = call("/v3/lease/grant", obj("TTL", Long.toString(ttlSeconds)));
    return Long.parseLong(r.path("ID").asText("0"));
  }

  /** Renews a lease; returns the remaining TTL in seconds, 0 when the lease is gone. */
  public long keepAlive(long lease) throws IOException {
    JsonNode r = call("/v3/lease/keepalive", obj("ID", Long.toString(lease)));
    return Long.parseLong(r.path("result").path("TTL").asText(r.path("TTL").asText("0")));
  }

  public void revokeLease(long lease) throws IOException {
    call("/v3/lease/revoke", obj("ID", Long.toString(lease)));
  }

  /** Puts {@code key} only if it does not exist; returns whether it was created. */
  public boolean createIfAbsent(String key, String value, long lease) throws IOException {
    ObjectNode put = obj("key", b64(key));
    put.put("value", b64(value));
    if (lease != 0) {
      put.put("lease", Long.toString(lease));
    }
    ObjectNode txn = JSON.createObjectNode();
    ObjectNode cmp = txn.putArray("compare").addObject();
    cmp.put("key", b64(key));
    cmp.put("result", "EQUAL");
    cmp.put("target", "CREATE");
    cmp.put("create_revision", "0");
    txn.putArray("success").addObject().set("request_put", put);
    return call("/v3/kv/txn", txn).path("succeeded").asBoolean(false);
  }

  public void put(String key, String value, long lease) throws IOException {
    ObjectNode put = obj("key", b64(key));
    put.put("value", b64(value));
    if (lease != 0) {
      put.put("lease", Long.toString(lease));
    }
    call("/v3/kv/put", put);
  }

  /** The value of {@code key}, or {@code null}. */
  public String get(String key) throws IOException {
    return range(key, null).get(key);
  }

  /** Every key starting with {@code prefix}, with its value, in key order. */
  public Map<String, String> prefix(String prefix) throws IOException {
    return range(prefix, B64.encodeToString(rangeEnd(prefix)));
  }

  /** A key with its value and the lease it sits on (0: none). */
  public record KeyValue(String key, String value, long lease) {}

  /** Every key starting with {@code prefix}, with its value and lease, in key order. */
  public List<KeyValue> scan(String prefix) throws IOException {
    ObjectNode req = obj("key", b64(prefix));
    req.put("range_end", B64.encodeToString(rangeEnd(prefix)));
    List<KeyValue> out = new ArrayList<>();
    for (JsonNode kv : call("/v3/kv/range", req).path("kvs")) {
      out.add(
          new KeyValue(
              unb64(kv.path("key").asText()),
              unb64(kv.path("value").asText("")),
              kv.path("lease").asLong(0)));
    }
    return out;
  }

  public void delete(String key) throws IOException {
    call("/v3/kv/deleterange", obj("key", b64(key)));
  }

  /**
   * @param end the base64 range end, or {@code null} for the single key
   */
  private Map<String, String> range(String key, String end) throws IOException {
    ObjectNode req = obj("key", b64(key));
    if (end != null) {
      req.put("range_end", end);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode kv : call("/v3/kv/range", req).path("kvs")) {
      out.put(unb64(kv.path("key").asText()), unb64(kv.path("value").asText("")));
    }
    return out;
  }

  /**
   * The smallest key greater than every key with {@code prefix}: the prefix with its last byte plus
   * one.
   */
  static byte[] rangeEnd(String prefix) {
    byte[] b = prefix.getBytes(StandardCharsets.UTF_8);
    b[b.length - 1]++; // prefixes end in '/', never in 0xFF
    return b;
  }

  private JsonNode call(String path, ObjectNode body) throws IOException {
    IOException last = null;
    int n = endpoints.size();
    int first = preferred;
    for (int i = 0; i < n; i++) {
      int idx = (first + i) % n;
      try {
        JsonNode r = send(endpoints.get(idx), path, body, true);
        preferred = idx;
        return r;
      } catch (EtcdError e) {
        if (!e.unavailable()) {
          throw e; // etcd answered: another endpoint would say the same
        }
        last = e; // this member has no leader just now (an election): another may
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  private JsonNode send(URI base, String path, ObjectNode body, boolean mayAuthenticate)
      throws IOException {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(3))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (mayAuthenticate && user != null && token == null) {
      authenticate(
          base); // an etcd with auth enabled refuses anonymous requests with a message that names
      // no token
    }
    String t = token;
    if (t != null) {
      req.header("Authorization", t);
    }
    HttpResponse<String> resp;
    try {
      resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
      throw new IOException(
          "cannot reach etcd at " + base + " (" + why + ")" + tlsHint(base, e), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted talking to etcd at " + base);
    }
    JsonNode r;
    try {
      r =
          JSON.readTree(
              resp.body().isEmpty() ? "{}" : resp.body().lines().findFirst().orElse("{}"));
    } catch (IOException e) {
      if (resp.body()
          .contains("CommonName")) { // etcd 3.4's gateway, with --client-cert-auth and auth enabled
        throw new EtcdError(
            "etcd at "
                + base
                + " takes users from client certificates, which its JSON gateway cannot use: "
                + "it refuses password authentication from a client that presents a certificate ("
                + resp.body().strip()
                + ")");
      }
      throw new IOException(
          "etcd at "
              + base
              + " answered "
              + resp.statusCode()
              + " with something that is not JSON");
    }
    String error =
        r.path("error").isObject()
            ? r.path("error").path("message").asText()
            : r.path("error").asText(r.path("message").asText(""));
    if (resp.statusCode() / 100 != 2 || !error.isEmpty()) {
      if (mayAuthenticate
          && user != null
          && (resp.statusCode() == 401
              || error.contains("token")
              || error.contains("authenticat"))) {
        authenticate(base);
        return send(base, path, body, false);
      }
      String reason = error.isEmpty() ? resp.body() : error;
      throw new EtcdError(
          "etcd at " + base + path + " answered " + resp.statusCode() + ": " + reason,
          reason,
          resp.statusCode() == 503);
    }
    return r;
  }

  /** What to check when an https endpoint fails the handshake, or an empty string. */
  private String tlsHint(URI base, IOException e) {
    if (!"https".equals(base.getScheme())) {
      return "";
    }
    String all = "";
    for (Throwable t = e; t != null; t = t.getCause()) {
      all += " " + t.getMessage();
    }
    if (all.contains("PKIX") || all.contains("certification path")) {
      return "; its certificate is not trusted: set ETCD_AUTH_CA to the CA that signed it";
    }
    if (all.contains("Broken pipe")
        || all.contains("reset")
        || all.contains("bad_certificate")
        || all.contains("certificate_required")) {
      return "; it may require a client certificate: set ETCD_AUTH_CLIENT_CERT and ETCD_AUTH_CLIENT_KEY";
    }
    return "";
  }

  private void authenticate(URI base) throws IOException {
    ObjectNode req = obj("name", user);
    req.put("password", password);
    token = null;
    JsonNode r;
    try {
      r = send(base, "/v3/auth/authenticate", req, false);
    } catch (EtcdError e) {
      if (e.reason()
          == null) { // not an answer to these credentials (the gateway's certificate refusal)
        throw e;
      }
      throw new EtcdError(
          "etcd at "
              + base
              + " refused ETCD_AUTH_USERNAME "
              + user
              + " with its ETCD_AUTH_PASSWORD ("
              + e.reason()
              + ")");
    }
    token = r.path("token").asText(null);
    if (token == null) {
      throw new EtcdError("etcd at " + base + " did not accept ETCD_AUTH_USERNAME " + user);
    }
  }

  private static ObjectNode obj(String k, String v) {
    ObjectNode o = JSON.createObjectNode();
    o.put(k, v);
    return o;
  }

  private static String b64(String s) {
    return B64.encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String unb64(String s) {
    return new String(B64D.decode(s), StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    List<String> shown = new ArrayList<>();
    endpoints.forEach(u -> shown.add(u.toString()));
    return "etcd " + String.join(",", shown) + (user != null ? " as " + user : "");
  }

  /** etcd answered with an error (as opposed to not answering). */
  public static final class EtcdError extends IOException {
    private static final long serialVersionUID = 1L;

    private final String reason;
    private final boolean unavailable;

    EtcdError(String message) {
      this(message, null, false);
    }

    /**
     * @param reason what etcd itself answered, or {@code null}
     * @param unavailable whether the member answered 503 (no leader, leader changed, timed out)
     */
    EtcdError(String message, String reason, boolean unavailable) {
      super(message);
      this.reason = reason;
      this.unavailable = unavailable;
    }

    /** Whether the member could not serve just now, so that another member may. */
    boolean unavailable() {
      return unavailable;
    }

    /** What etcd itself answered, when it answered with an error. */
    public String reason() {
      return reason;
    }
  }
}
