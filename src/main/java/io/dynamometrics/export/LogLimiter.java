package io.dynamometrics.export;

import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Logs a recurring problem at most once per period per key, with how many were suppressed, so a
 * misbehaving worker cannot flood the log at 3 a.m. but is never silent either.
 */
final class LogLimiter {
  private record Window(long startNanos, long suppressed) {}

  private final Logger log;
  private final long periodNanos;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  LogLimiter(Logger log, Duration period) {
    this.log = log;
    this.periodNanos = period.toNanos();
  }

  void log(Level level, String key, String message, Field... fields) {
    long now = System.nanoTime();
    long[] suppressed = {-1};
    windows.compute(
        key,
        (k, w) -> {
          if (w == null || now - w.startNanos >= periodNanos) {
            suppressed[0] = w == null ? 0 : w.suppressed;
            return new Window(now, 0);
          }
          return new Window(w.startNanos, w.suppressed + 1);
        });
    if (suppressed[0] >= 0) {
      Field[] all = java.util.Arrays.copyOf(fields, fields.length + 1);
      all[fields.length] = Field.of("suppressed", suppressed[0]);
      Log.log(
          log,
          level,
          suppressed[0] == 0
              ? message
              : message + " (and " + suppressed[0] + " more like it since the last report)",
          all);
    }
  }
}
