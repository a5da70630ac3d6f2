package io.dynamometrics.etcd;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

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
      ssl = sslContext(ca, cert, key);
    }
    return new EtcdClient(endpoints, ssl, user, password);
  }

  private static SSLContext sslContext(String ca, String cert, String key) {
    try {
      TrustManagerFactory tmf = null;
      if (ca != null) {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        int i = 0;
        for (Certificate c : certificates(ca, "ETCD_AUTH_CA")) {
          trust.setCertificateEntry("ca" + i++, c);
        }
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
      }
      KeyManagerFactory kmf = null;
      if (cert != null) {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        Collection<? extends Certificate> chain = certificates(cert, "ETCD_AUTH_CLIENT_CERT");
        keys.setKeyEntry("client", privateKey(key), new char[0], chain.toArray(Certificate[]::new));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
      return ctx;
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalArgumentException("cannot set up TLS for etcd: " + e.getMessage());
    }
  }

  private static Collection<? extends Certificate> certificates(String file, String variable) {
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      return CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (Exception e) {
      throw new IllegalArgumentException(variable + " " + file + " is not a readable PEM certificate file");
    }
  }

  private static PrivateKey privateKey(String file) {
    try {
      String pem = Files.readString(Path.of(file));
      if (!pem.contains("BEGIN PRIVATE KEY")) {
        throw new IllegalArgumentException("ETCD_AUTH_CLIENT_KEY " + file + " must be an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY)");
      }
      byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
      for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
        try {
          return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (Exception tryNext) {
          // not this algorithm
        }
      }
      throw new IllegalArgumentException("ETCD_AUTH_CLIENT_KEY " + file + " holds no RSA, EC or Ed25519 key");
    } catch (IOException e) {
      throw new IllegalArgumentException("ETCD_AUTH_CLIENT_KEY " + file + " is not readable");
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
