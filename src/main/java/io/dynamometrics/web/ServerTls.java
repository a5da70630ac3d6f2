package io.dynamometrics.web;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import io.dynamometrics.tls.TlsFiles;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The HTTPS side of a web config: the server's identity, how clients are asked for certificates
 * ({@code client_auth_type}, with Go's meanings), protocol versions, cipher suites and curves.
 */
final class ServerTls {
  /** Go's {@code tls.ClientAuthType} values, as Prometheus' web config names them. */
  enum ClientAuth {
    /** No certificate is asked for. */
    NoClientCert(false, false, false),
    /** Asked for, not required, not verified. */
    RequestClientCert(true, false, false),
    /** Required, not verified. */
    RequireAnyClientCert(true, true, false),
    /** Asked for, verified against client_ca_file when given. */
    VerifyClientCertIfGiven(true, false, true),
    /** Required and verified against client_ca_file. */
    RequireAndVerifyClientCert(true, true, true);

    final boolean want;
    final boolean need;
    final boolean verify;

    ClientAuth(boolean want, boolean need, boolean verify) {
      this.want = want;
      this.need = need;
      this.verify = verify;
    }
  }

  private final SSLContext context;
  private final ClientAuth clientAuth;
  private final String[] protocols;
  private final String[] cipherSuites; // null: the JVM's
  private final String[] namedGroups; // null: the JVM's
  private final boolean preferServerCipherSuites;
  private final Set<String> allowedSans; // empty: any verified client

  /**
   * @param server the server's certificate and key; its trust is the client CAs (or none)
   */
  ServerTls(
      TlsFiles server,
      TlsFiles clientCas,
      ClientAuth clientAuth,
      List<String> protocols,
      List<String> cipherSuites,
      List<String> namedGroups,
      boolean preferServerCipherSuites,
      Set<String> allowedSans) {
    this.clientAuth = clientAuth;
    this.protocols = protocols.toArray(String[]::new);
    this.cipherSuites = cipherSuites == null ? null : cipherSuites.toArray(String[]::new);
    this.namedGroups = namedGroups == null ? null : namedGroups.toArray(String[]::new);
    this.preferServerCipherSuites = preferServerCipherSuites;
    this.allowedSans = Set.copyOf(allowedSans);
    TrustManager[] trust = clientAuth.verify ? clientCas.trust() : new TrustManager[] {ANY_CLIENT};
    try {
      context = SSLContext.getInstance("TLS");
      context.init(server.identity(), trust, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage());
    }
  }

  /** For the modes that ask for a certificate without verifying it, as Go's server does. */
  private static final X509TrustManager ANY_CLIENT =
      new X509TrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
          // RequestClientCert and RequireAnyClientCert: any certificate is taken, unverified
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType)
            throws CertificateException {
          throw new CertificateException("a server context does not verify servers");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      };

  /** The cipher suites and named groups this JVM can enable, to check a config against. */
  static SSLParameters supported() {
    try {
      return SSLContext.getDefault().getSupportedSSLParameters();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  HttpsConfigurator configurator() {
    return new HttpsConfigurator(context) {
      @Override
      public void configure(HttpsParameters params) {
        params.setSSLParameters(parameters());
      }
    };
  }

  SSLParameters parameters() {
    SSLParameters p = context.getDefaultSSLParameters();
    p.setProtocols(protocols);
    if (cipherSuites != null) {
      p.setCipherSuites(cipherSuites);
    }
    if (namedGroups != null) {
      p.setNamedGroups(namedGroups);
    }
    p.setUseCipherSuitesOrder(preferServerCipherSuites);
    if (clientAuth.need) {
      p.setNeedClientAuth(true);
    } else if (clientAuth.want) {
      p.setWantClientAuth(true);
    }
    return p;
  }

  /**
   * Whether a request from a client that showed {@code chain} (or none) may proceed under
   * client_allowed_sans.
   */
  boolean allowed(X509Certificate[] chain) {
    if (allowedSans.isEmpty()) {
      return true;
    }
    if (chain == null || chain.length == 0) {
      return false;
    }
    try {
      Collection<List<?>> sans = chain[0].getSubjectAlternativeNames();
      if (sans == null) {
        return false;
      }
      List<String> names = new ArrayList<>();
      sans.forEach(entry -> names.add(String.valueOf(entry.get(1))));
      return names.stream().anyMatch(allowedSans::contains);
    } catch (CertificateParsingException e) {
      return false;
    }
  }
}
