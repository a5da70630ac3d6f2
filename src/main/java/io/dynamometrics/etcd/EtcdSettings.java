package io.dynamometrics.etcd;

import io.dynamometrics.tls.Pem;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/** An {@link EtcdClient} from Dynamo's {@code ETCD_*} environment variables. */
public final class EtcdSettings {
  private EtcdSettings() {}

  /** @throws IllegalArgumentException naming the variable whose value is unusable */
  public static EtcdClient fromEnv(Map<String, String> env) {
    List<URI> endpoints = new ArrayList<>();
    for (String e : env.getOrDefault("ETCD_ENDPOINTS", "http://localhost:2379").split(",")) {
      String s = e.strip();
      if (s.isEmpty()) {
        continue;
      }
      URI u = URI.create(s.contains("://") ? s : "http://" + s);
      if (u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
        throw new IllegalArgumentException("ETCD_ENDPOINTS entry '" + s + "' must look like http://host:2379");
      }
      endpoints.add(u);
    }
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("ETCD_ENDPOINTS is empty");
    }
    String user = blankToNull(env.get("ETCD_AUTH_USERNAME"));
    String password = env.getOrDefault("ETCD_AUTH_PASSWORD", "");
    SSLContext ssl = null;
    String ca = blankToNull(env.get("ETCD_AUTH_CA"));
    String cert = blankToNull(env.get("ETCD_AUTH_CLIENT_CERT"));
    String key = blankToNull(env.get("ETCD_AUTH_CLIENT_KEY"));
    if (ca != null || cert != null) {
      if ((cert == null) != (key == null)) {
        throw new IllegalArgumentException("ETCD_AUTH_CLIENT_CERT and ETCD_AUTH_CLIENT_KEY must be set together");
      }
      ssl = Pem.context(ca, cert, key, "ETCD_AUTH_CA/CLIENT_CERT/CLIENT_KEY");
    }
    return new EtcdClient(endpoints, ssl, user, password);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
