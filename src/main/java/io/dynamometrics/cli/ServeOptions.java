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

  @Option(names = "--web-config", paramLabel = "FILE",
      description = "YAML file with tls_server_config (cert_file, key_file: PEM) and/or basic_auth_users "
          + "(user: bcrypt hash), as Prometheus' --web.config.file: protects every endpoint.")
  java.nio.file.Path webConfig;

  /** The web protection to apply, or a user error naming what is wrong in the file. */
  io.dynamometrics.web.WebConfig web() {
    if (webConfig == null) {
      return io.dynamometrics.web.WebConfig.NONE;
    }
    try {
      return io.dynamometrics.web.WebConfig.load(webConfig);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }

  void validate() {
    if (port < 0 || port > 65535) {
      throw new UserError("--port must be between 0 and 65535, got " + port);
    }
  }
}
