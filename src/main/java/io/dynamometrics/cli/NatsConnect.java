package io.dynamometrics.cli;

import io.dynamometrics.transport.NatsAuth;
import io.dynamometrics.transport.NatsTransport;
import java.io.IOException;
import java.net.URI;
import java.util.logging.Logger;

/** Turns {@code --nats-server} and the {@code NATS_AUTH_*} variables into a transport, or a clear error. */
final class NatsConnect {
  private static final Logger LOG = Logger.getLogger(NatsConnect.class.getName());

  private NatsConnect() {}

  static NatsTransport open(String url) {
    for (String one : url.split(",")) {
      URI uri;
      try {
        uri = new URI(one.contains("://") ? one : "nats://" + one);
      } catch (Exception e) {
        throw new UserError("--nats-server '" + url + "' is not a URL like nats://host:4222");
      }
      String scheme = uri.getScheme();
      if (uri.getHost() == null || !(scheme.equals("nats") || scheme.equals("tls"))) {
        throw new UserError("--nats-server '" + one + "' must look like nats://host:4222 or tls://host:4222");
      }
    }
    NatsAuth auth;
    javax.net.ssl.SSLContext tls;
    try {
      auth = NatsAuth.fromEnv(System.getenv());
      tls = NatsAuth.tlsFromEnv(System.getenv());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    try {
      LOG.info("connecting to NATS at " + url + " (auth: " + auth + ")");
      NatsTransport transport = NatsTransport.connect(url, auth, tls);
      // A server that is down is waited for; one that refuses our credentials is a user error.
      String refused = transport.awaitFirstConnect(java.time.Duration.ofSeconds(3));
      if (refused != null) {
        transport.close();
        throw new UserError("NATS at " + url + " refused the credentials (" + auth + "): " + refused
            + (refused.startsWith("TLS") ? "" : "; check the NATS_AUTH_* variables"));
      }
      return transport;
    } catch (IOException e) {
      throw new UserError("cannot connect to NATS at " + url + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted while connecting to NATS");
    }
  }
}
