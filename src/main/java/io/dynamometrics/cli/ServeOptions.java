package io.dynamometrics.cli;

import io.dynamometrics.web.WebConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where to serve HTTP. */
final class ServeOptions {
  @Option(
      names = "--host",
      defaultValue = "0.0.0.0",
      paramLabel = "ADDR",
      description =
          "Address to serve /metrics, the dashboard and the API on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = {"--port", "--metrics-port"},
      defaultValue = "9091",
      paramLabel = "PORT",
      description =
          "HTTP port (default: ${DEFAULT-VALUE}); --metrics-port is an alias, as in Dynamo.")
  int port;

  @Option(
      names = "--web-config",
      paramLabel = "FILE",
      description =
          "Protects every endpoint; Prometheus' --web.config.file format: tls_server_config (cert_file, "
              + "key_file, client_auth_type, client_ca_file, min/max_version, cipher_suites, ...), http_server_config "
              + "(headers) and basic_auth_users (user: bcrypt hash). Unknown keys are an error. See docs/security.md.")
  Path webConfig;

  /** The web protection to apply, or a user error naming what is wrong in the file. */
  WebConfig web() {
    if (webConfig == null) {
      return WebConfig.NONE;
    }
    try {
      return WebConfig.load(webConfig);
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
