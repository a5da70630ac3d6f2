package io.dynamometrics.cli;

import io.dynamometrics.log.Logging;
import picocli.CommandLine.Option;

/** How much to log, and in which format; shared by every command. */
final class LogOptions {
  @Option(
      names = "--log-level",
      defaultValue = "${env:DYN_LOG:-info}",
      paramLabel = "LEVEL",
      description = "error, warn, info, debug or trace (env DYN_LOG; default: ${DEFAULT-VALUE}).")
  String logLevel = "info";

  @Option(
      names = "--log-format",
      paramLabel = "FORMAT",
      description =
          "text, or json: one JSON object per line with time, level, target, message and the"
              + " event's fields (default: json when env DYN_LOGGING_JSONL=1, else text).")
  String logFormat;

  /** Configures logging, or fails with a user error naming the bad level or format. */
  void apply() {
    try {
      Logging.configure(logLevel, Logging.Format.choose(logFormat, System.getenv()));
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }
}
