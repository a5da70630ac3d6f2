package io.dynamometrics.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** TLS material from PEM files, as etcd, NATS and Prometheus users keep it. Errors name the file and its role. */
public final class Pem {
  private Pem() {}

  /**
   * An SSL context with an optional client/server identity and optional trusted CAs.
   *
   * @param role how the user named these files (an option or variable), for error messages
   * @throws IllegalArgumentException naming the unusable file
   */
  public static SSLContext context(String caFile, String certFile, String keyFile, String role) {
    try {
      TrustManagerFactory tmf = null;
      if (caFile != null) {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        int i = 0;
        for (Certificate c : certificates(caFile, role)) {
          trust.setCertificateEntry("ca" + i++, c);
        }
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
      }
      KeyManagerFactory kmf = null;
      if (certFile != null) {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("identity", privateKey(keyFile, role), new char[0], certificates(certFile, role).toArray(Certificate[]::new));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
      return ctx;
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalArgumentException("cannot set up TLS from " + role + ": " + e.getMessage());
    }
  }

  public static Collection<? extends Certificate> certificates(String file, String role) {
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new IllegalArgumentException();
      }
      return certs;
    } catch (Exception e) {
      throw new IllegalArgumentException(role + ": " + file + " is not a readable PEM certificate file");
    }
  }

  public static PrivateKey privateKey(String file, String role) {
    String pem;
    try {
      pem = Files.readString(Path.of(file));
    } catch (IOException e) {
      throw new IllegalArgumentException(role + ": key file " + file + " is not readable");
    }
    if (!pem.contains("BEGIN PRIVATE KEY")) {
      throw new IllegalArgumentException(role + ": " + file + " must be an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY)");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (Exception tryNext) {
        // not this algorithm
      }
    }
    throw new IllegalArgumentException(role + ": " + file + " holds no RSA, EC or Ed25519 key");
  }
}
