package io.dynamometrics.etcd;

import io.dynamometrics.net.Endpoints;
import io.dynamometrics.tls.TlsFiles;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;

/** An {@link EtcdClient} from Dynamo's {@code ETCD_*} environment variables. */
public final class EtcdSettings {
  private EtcdSettings() {}

  /**
   * A client for the endpoints, credentials and TLS files the variables name.
   *
   * @throws IllegalArgumentException naming the variable whose value is unusable
   */
  public static EtcdClient fromEnv(Map<String, String> env) {
    List<URI> endpoints =
        Endpoints.parse(
            env.getOrDefault("ETCD_ENDPOINTS", "http://localhost:2379"),
            "ETCD_ENDPOINTS",
            "http",
            Set.of("http", "https"),
            2379);
    String user = blankToNull(env.get("ETCD_AUTH_USERNAME"));
    String password = env.getOrDefault("ETCD_AUTH_PASSWORD", "");
    TlsFiles tls = TlsFiles.fromEnv(env, TlsFiles.ETCD);
    SSLContext ssl = tls == null ? null : tls.clientContext();
    return new EtcdClient(endpoints, ssl, user, password);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
