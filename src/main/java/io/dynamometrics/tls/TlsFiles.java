package io.dynamometrics.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS material of one connection or listener: trusted CAs, and an identity (a certificate or
 * chain with its key, optionally encrypted). Loaded and checked when made, so that a bad file stops
 * the service at start with one line.
 */
public final class TlsFiles {
  /** The variable names one client reads its files from, as Dynamo names them. */
  public record Vars(String ca, String cert, String key) {
    String password() {
      return key + "_PASSWORD";
    }

    String role() {
      return ca + ", " + cert + ", " + key;
    }
  }

  public static final Vars NATS = new Vars("NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY");
  public static final Vars ETCD =
      new Vars("ETCD_AUTH_CA", "ETCD_AUTH_CLIENT_CERT", "ETCD_AUTH_CLIENT_KEY");

  private final KeyManager[] identity;
  private final TrustManager[] trust;

  private TlsFiles(KeyManager[] identity, TrustManager[] trust) {
    this.identity = identity;
    this.trust = trust;
  }

  /**
   * Loads and checks the files; any may be {@code null}, but a certificate needs its key.
   *
   * @param password for an encrypted key, else {@code null}
   * @throws IllegalArgumentException naming the unusable file or setting
   */
  public static TlsFiles load(Path ca, Path cert, Path key, char[] password, String role) {
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException(
          role + ": a certificate and its key must be given together");
    }
    try {
      TrustManager[] trust = null;
      if (ca != null) {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        int i = 0;
        for (X509Certificate c : Pem.certificates(ca, role)) {
          store.setCertificateEntry("ca" + i++, c);
        }
        TrustManagerFactory tmf =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        trust = tmf.getTrustManagers();
      }
      KeyManager[] identity = null;
      if (cert != null) {
        List<X509Certificate> chain = Pem.certificates(cert, role);
        PrivateKey privateKey = Pem.privateKey(key, password, role);
        Pem.checkPair(privateKey, chain.get(0), key, cert, role);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry(
            "identity", privateKey, new char[0], chain.toArray(X509Certificate[]::new));
        KeyManagerFactory kmf =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, new char[0]);
        identity = kmf.getKeyManagers();
      }
      return new TlsFiles(identity, trust);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot set up TLS from " + role + ": " + e.getMessage());
    }
  }

  /**
   * The files named by {@code vars} in {@code env}, or {@code null} when none is set. The key's
   * password comes from {@code KEY_PASSWORD} or the file named by {@code KEY_PASSWORD_FILE}.
   */
  public static TlsFiles fromEnv(Map<String, String> env, Vars vars) {
    Path ca = path(env, vars.ca());
    Path cert = path(env, vars.cert());
    Path key = path(env, vars.key());
    if (ca == null && cert == null && key == null) {
      return null;
    }
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException(
          vars.cert() + " and " + vars.key() + " must be set together");
    }
    return load(ca, cert, key, password(env, vars.password()), vars.role());
  }

  /**
   * A password from {@code NAME} or from the file named by {@code NAME_FILE} (its first line), or
   * {@code null} when neither is set.
   */
  public static char[] password(Map<String, String> env, String name) {
    String direct = env.get(name);
    if (direct != null && !direct.isEmpty()) {
      return direct.toCharArray();
    }
    Path file = path(env, name + "_FILE");
    return file == null ? null : passwordFile(file, name + "_FILE");
  }

  /** The first line of {@code file}, as a password. */
  public static char[] passwordFile(Path file, String role) {
    try {
      return Files.readString(file).lines().findFirst().orElse("").toCharArray();
    } catch (IOException e) {
      throw new IllegalArgumentException(role + ": " + file + " is not readable");
    }
  }

  /** The identity's key managers, or {@code null} when there is none. */
  public KeyManager[] identity() {
    return identity;
  }

  /** Trust managers for the CAs given, or {@code null} for the JVM's default trust. */
  public TrustManager[] trust() {
    return trust;
  }

  /** A client's context: this identity, these CAs (or the JVM's when none). */
  public SSLContext clientContext() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(identity, trust, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path path(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : Path.of(v.strip());
  }
}
