package io.dynamometrics.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One line per log record on stderr: time, level, logger, message (and a cause, if any). */
final class Logging {
  private Logging() {}

  /**
   * @throws IllegalArgumentException naming the value when {@code level} is unknown
   */
  static void configure(String level) {
    Level jul =
        switch (level.toLowerCase(Locale.ROOT)) {
          case "error" -> Level.SEVERE;
          case "warn", "warning" -> Level.WARNING;
          case "info" -> Level.INFO;
          case "debug" -> Level.FINE;
          case "trace" -> Level.FINEST;
          default ->
              throw new IllegalArgumentException(
                  "unknown log level '" + level + "' (expected error, warn, info, debug or trace)");
        };
    Logger root = Logger.getLogger("");
    for (var h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler handler = new ConsoleHandler();
    handler.setLevel(jul);
    handler.setFormatter(new OneLine());
    root.addHandler(handler);
    root.setLevel(jul);
    // jnats is chatty at INFO about each reconnect attempt; our own state log says what matters.
    Logger.getLogger("io.nats")
        .setLevel(jul.intValue() < Level.INFO.intValue() ? jul : Level.WARNING);
  }

  private static final class OneLine extends Formatter {
    @Override
    public String format(LogRecord r) {
      String name = r.getLoggerName() == null ? "" : r.getLoggerName();
      name = name.substring(name.lastIndexOf('.') + 1);
      StringBuilder sb =
          new StringBuilder(128)
              .append(Instant.ofEpochMilli(r.getMillis()))
              .append(' ')
              .append(String.format("%-5s", label(r.getLevel())))
              .append(' ')
              .append(name)
              .append(": ")
              .append(formatMessage(r))
              .append('\n');
      if (r.getThrown() != null) {
        var out = new ByteArrayOutputStream();
        r.getThrown().printStackTrace(new PrintStream(out, true, StandardCharsets.UTF_8));
        sb.append(out.toString(StandardCharsets.UTF_8));
      }
      return sb.toString();
    }

    private static String label(Level l) {
      if (l.intValue() >= Level.SEVERE.intValue()) return "ERROR";
      if (l.intValue() >= Level.WARNING.intValue()) return "WARN";
      if (l.intValue() >= Level.INFO.intValue()) return "INFO";
      if (l.intValue() >= Level.FINE.intValue()) return "DEBUG";
      return "TRACE";
    }
  }
}
