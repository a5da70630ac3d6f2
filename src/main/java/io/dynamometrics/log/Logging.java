package io.dynamometrics.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Where log records go and how they look: one line per record on stderr, either text (time, level,
 * logger, message) or one JSON object (time, level, target, message and the event's {@link
 * Field}s).
 */
public final class Logging {
  private Logging() {}

  /** Keys every JSON line has, or one with an exception has; a {@link Field} cannot take them. */
  static final Set<String> RESERVED =
      Set.of("time", "level", "target", "message", "exception", "stack");

  /** The log line formats. */
  public enum Format {
    TEXT,
    JSON;

    /**
     * The format named {@code name}; without one, JSON when Dynamo's {@code DYN_LOGGING_JSONL} is
     * set to a true value in {@code env}, else text.
     *
     * @throws IllegalArgumentException naming the value when {@code name} is unknown
     */
    public static Format choose(String name, Map<String, String> env) {
      if (name == null || name.isBlank()) {
        String jsonl = env.getOrDefault("DYN_LOGGING_JSONL", "").strip().toLowerCase(Locale.ROOT);
        return Set.of("1", "true", "yes", "on").contains(jsonl) ? JSON : TEXT;
      }
      return switch (name.strip().toLowerCase(Locale.ROOT)) {
        case "text" -> TEXT;
        case "json" -> JSON;
        default ->
            throw new IllegalArgumentException(
                "unknown log format '" + name + "' (expected text or json)");
      };
    }
  }

  private static volatile Format format;

  /** The format {@link #configure} set; before it is called, the one the environment asks for. */
  public static Format format() {
    Format f = format;
    return f != null ? f : Format.choose(null, System.getenv());
  }

  /**
   * Sends every record at {@code level} and above to stderr in {@code format}.
   *
   * @throws IllegalArgumentException naming the value when {@code level} is unknown
   */
  public static void configure(String level, Format format) {
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
    Logging.format = format;
    Logger root = Logger.getLogger("");
    for (var h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler handler = new ConsoleHandler();
    try {
      handler.setEncoding(StandardCharsets.UTF_8.name());
    } catch (java.io.UnsupportedEncodingException e) {
      throw new IllegalStateException(e);
    }
    handler.setLevel(jul);
    handler.setFormatter(format == Format.JSON ? new JsonLine() : new TextLine());
    root.addHandler(handler);
    root.setLevel(jul);
    // jnats is chatty at INFO about each reconnect attempt; our own state log says what matters.
    NATS.setLevel(jul.intValue() < Level.INFO.intValue() ? jul : Level.WARNING);
    // the Kubernetes client warns with a stack trace on every retry of a failed list or watch;
    // KubeRoster logs each failure once with what to do, so its lines show only at debug
    KUBERNETES.setLevel(jul.intValue() < Level.INFO.intValue() ? jul : Level.SEVERE);
  }

  // held here: a logger only referenced by name may be collected, and its level with it
  private static final Logger NATS = Logger.getLogger("io.nats");
  private static final Logger KUBERNETES = Logger.getLogger("io.fabric8");

  /**
   * A user's mistake that stops the program, with a hint of what to do: in text, {@code
   * dynamo-metrics: message} and the hint on a line of its own; in JSON, one {@code ERROR} object
   * with the hint in parentheses.
   */
  public static String userErrorLines(String message, String hint) {
    return format() == Format.TEXT
        ? userErrorLine(message) + System.lineSeparator() + hint
        : userErrorLine(message + " (" + hint + ")");
  }

  /**
   * A user's mistake that stops the program, as one line in the configured format: {@code
   * dynamo-metrics: message} in text, an {@code ERROR} object in JSON.
   */
  public static String userErrorLine(String message) {
    if (format() == Format.TEXT) {
      return "dynamo-metrics: " + message;
    }
    LogRecord r = new LogRecord(Level.SEVERE, message);
    r.setLoggerName("dynamo-metrics");
    return JsonLine.json(r);
  }

  private static String label(Level l) {
    if (l.intValue() >= Level.SEVERE.intValue()) return "ERROR";
    if (l.intValue() >= Level.WARNING.intValue()) return "WARN";
    if (l.intValue() >= Level.INFO.intValue()) return "INFO";
    if (l.intValue() >= Level.FINE.intValue()) return "DEBUG";
    return "TRACE";
  }

  private static boolean hasFields(LogRecord r) {
    Object[] p = r.getParameters();
    return p != null && p.length > 0 && p[0] instanceof Field;
  }

  /** The message: ours as written, other libraries' with their parameters filled in. */
  private static String message(Formatter f, LogRecord r) {
    return hasFields(r) || r.getMessage() == null
        ? String.valueOf(r.getMessage())
        : f.formatMessage(r);
  }

  private static String stackTrace(Throwable t) {
    var out = new ByteArrayOutputStream();
    t.printStackTrace(new PrintStream(out, true, StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }

  private static final class TextLine extends Formatter {
    @Override
    public String format(LogRecord r) {
      String name = r.getLoggerName() == null ? "" : r.getLoggerName();
      name = name.substring(name.lastIndexOf('.') + 1);
      StringBuilder sb =
          new StringBuilder(128)
              .append(r.getInstant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS))
              .append(' ')
              .append(String.format(Locale.ROOT, "%-5s", label(r.getLevel())))
              .append(' ')
              .append(name)
              .append(": ")
              .append(message(this, r))
              .append('\n');
      if (r.getThrown() != null) {
        sb.append(stackTrace(r.getThrown()));
      }
      return sb.toString();
    }
  }

  private static final class JsonLine extends Formatter {
    private static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter TIME =
        DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
    private static final JsonLine INSTANCE = new JsonLine();

    @Override
    public String format(LogRecord r) {
      return json(r) + "\n";
    }

    static String json(LogRecord r) {
      StringWriter out = new StringWriter(256);
      try (JsonGenerator g = JSON.createGenerator(out)) {
        g.writeStartObject();
        g.writeStringField("time", TIME.format(r.getInstant()));
        g.writeStringField("level", label(r.getLevel()));
        g.writeStringField("target", r.getLoggerName() == null ? "" : r.getLoggerName());
        g.writeStringField("message", message(INSTANCE, r));
        if (hasFields(r)) {
          for (Object p : r.getParameters()) {
            if (p instanceof Field f) {
              g.writeFieldName(f.key());
              switch (f.value()) {
                case null -> g.writeNull();
                case Integer i -> g.writeNumber(i);
                case Long l -> g.writeNumber(l);
                case Double d when Double.isFinite(d) -> g.writeNumber(d);
                case Boolean b -> g.writeBoolean(b);
                default -> g.writeString(f.value().toString());
              }
            }
          }
        }
        Throwable t = r.getThrown();
        if (t != null) {
          g.writeStringField("exception", String.valueOf(t));
          g.writeStringField("stack", stackTrace(t));
        }
        g.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return out.toString();
    }
  }
}
