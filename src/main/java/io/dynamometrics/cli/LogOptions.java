package io.dynamometrics.cli;

import picocli.CommandLine.Option;

/** How much to log; shared by every command. */
final class LogOptions {
  @Option(
      names = "--log-level",
      defaultValue = "${env:DYN_LOG:-info}",
      paramLabel = "LEVEL",
      description = "error, warn, info, debug or trace (env DYN_LOG; default: ${DEFAULT-VALUE}).")
  String logLevel = "info";

  /** Configures logging, or fails with a user error naming the bad level. */
  void apply() {
    try {
      Logging.configure(logLevel);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }
}
