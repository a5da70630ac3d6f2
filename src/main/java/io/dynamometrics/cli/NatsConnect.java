package io.dynamometrics.cli;

import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import io.dynamometrics.net.Endpoints;
import io.dynamometrics.transport.NatsAuth;
import io.dynamometrics.transport.NatsTransport;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;

/**
 * Turns {@code --nats-server} and the {@code NATS_AUTH_*} variables into a transport, or a clear
 * error.
 */
final class NatsConnect {
  private static final Logger LOG = Logger.getLogger(NatsConnect.class.getName());

  private NatsConnect() {}

  static NatsTransport open(String url) {
    NatsAuth auth;
    SSLContext tls;
    try {
      Endpoints.parse(url, "--nats-server", "nats", Set.of("nats", "tls"), 4222);
      auth = NatsAuth.fromEnv(System.getenv());
      tls = NatsAuth.tlsFromEnv(System.getenv());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    try {
      Log.log(
          LOG,
          Level.INFO,
          "connecting to NATS at " + Endpoints.redacted(url) + " (auth: " + auth + ")",
          Field.of("server", Endpoints.redacted(url)),
          Field.of("auth", auth.toString()));
      NatsTransport transport = NatsTransport.connect(url, auth, tls);
      // A server that is down is waited for; one that refuses our credentials is a user error.
      String refused = transport.awaitFirstConnect(Duration.ofSeconds(3));
      if (refused != null) {
        transport.close();
        throw new UserError(
            "NATS at "
                + Endpoints.redacted(url)
                + " refused the credentials ("
                + auth
                + "): "
                + refused
                + (refused.startsWith("TLS") ? "" : "; check the NATS_AUTH_* variables"));
      }
      return transport;
    } catch (IOException e) {
      throw new UserError(
          "cannot connect to NATS at " + Endpoints.redacted(url) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted while connecting to NATS");
    }
  }
}
