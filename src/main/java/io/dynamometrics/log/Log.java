package io.dynamometrics.log;

import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Logs an event with its structured fields, which JSON logs write as keys of their own. */
public final class Log {
  private Log() {}

  /** Logs {@code message} at {@code level} with {@code fields}, if the level is on. */
  public static void log(Logger logger, Level level, String message, Field... fields) {
    log(logger, level, message, null, fields);
  }

  /** As {@link #log(Logger, Level, String, Field...)}, with the exception that caused it. */
  public static void log(
      Logger logger, Level level, String message, Throwable thrown, Field... fields) {
    if (!logger.isLoggable(level)) {
      return;
    }
    LogRecord r = new LogRecord(level, message);
    r.setLoggerName(logger.getName());
    r.setParameters(fields);
    r.setThrown(thrown);
    logger.log(r);
  }
}
