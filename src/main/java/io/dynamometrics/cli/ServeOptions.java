package io.dynamometrics.cli;

import picocli.CommandLine.Option;

/** Where to serve HTTP. */
final class ServeOptions {
  @Option(names = "--host", defaultValue = "0.0.0.0", paramLabel = "ADDR",
      description = "Address to serve /metrics, the dashboard and the API on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = {"--port", "--metrics-port"}, defaultValue = "9091", paramLabel = "PORT",
      description = "HTTP port (default: ${DEFAULT-VALUE}); --metrics-port is an alias, as in Dynamo.")
  int port;

  void validate() {
    if (port < 0 || port > 65535) {
      throw new UserError("--port must be between 0 and 65535, got " + port);
    }
  }
}
