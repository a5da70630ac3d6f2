package io.dynamometrics.cli;

import io.dynamometrics.transport.NatsTransport;
import picocli.CommandLine.Option;

/** Where NATS is; shared by the aggregator and the mock worker. */
final class NatsOptions {
  @Option(
      names = "--nats-server",
      defaultValue = "${env:NATS_SERVER:-nats://localhost:4222}",
      paramLabel = "URL",
      description =
          "NATS server URL(s), comma-separated; credentials come from NATS_AUTH_USERNAME/PASSWORD, "
              + "NATS_AUTH_TOKEN, NATS_AUTH_NKEY or NATS_AUTH_CREDENTIALS_FILE (env NATS_SERVER; default: ${DEFAULT-VALUE}).")
  String url;

  NatsTransport open() {
    return NatsConnect.open(url);
  }
}
