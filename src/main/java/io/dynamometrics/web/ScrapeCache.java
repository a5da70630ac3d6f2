package io.dynamometrics.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * {@code /metrics} rendered once per fleet snapshot and format (text 0.0.4, OpenMetrics or
 * protobuf, with its name escaping) by {@link Exposition}, and the same bytes served to every
 * scrape of that snapshot, gzip-compressed once too when asked for. A snapshot is rendered right
 * after its poll for each format whose regular scraper is expected back before the next poll
 * ({@link #published}), else by the first scrape that asks. Series that move between polls
 * (hit-rate counters, the JVM's) are therefore as of that rendering, at most {@code maxAgeNanos}
 * old. Requests with {@code name[]} or {@code debug} go to the client's own handler.
 */
final class ScrapeCache implements HttpHandler {
  private final PrometheusRegistry registry;
  private final Prerendered prerendered;
  private final Supplier<?> snapshot;
  private final HttpHandler fallback;
  private final long maxAgeNanos;
  private final ExpositionFormats formats = ExpositionFormats.init();

  /** The client's query parameters that select series or ask for a debug view. */
  private static final java.util.regex.Pattern FILTERS =
      java.util.regex.Pattern.compile(
          "(?:^|&)(?:name(?:\\[]|%5[Bb]%5[Dd])|debug)=", java.util.regex.Pattern.CASE_INSENSITIVE);

  private volatile Rendered current;
  private final Map<String, Demand> demand = new ConcurrentHashMap<>();
  private final Consumer<String> rendered;

  /** Renders ahead of expected scrapes, one at a time, never on the poll thread. */
  private final ExecutorService ahead =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().daemon().name("render-ahead").factory());

  /** The renderings of one snapshot, by format. */
  private record Rendered(Object snapshot, long atNanos, Map<String, Body> bodies) {}

  private interface Render {
    byte[] bytes() throws IOException;
  }

  /** One format's bytes, and its gzip form once someone asked for it. */
  private static final class Body {
    private final String contentType;
    private byte[] plain;
    private byte[] gzip;

    Body(String contentType) {
      this.contentType = contentType;
    }

    synchronized byte[] plain(Render render) throws IOException {
      if (plain == null) { // the first scrape renders; concurrent ones wait for its bytes
        plain = render.bytes();
      }
      return plain;
    }

    synchronized byte[] gzip(Render render) throws IOException {
      if (gzip == null) {
        byte[] p = plain(render);
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, p.length / 8));
        try (GZIPOutputStream z = new FastGzip(out)) {
          z.write(p);
        }
        gzip = out.toByteArray();
      }
      return gzip;
    }
  }

  /**
   * @param prerendered families written ahead of the scrape, or {@code null}
   * @param snapshot the current fleet snapshot (compared by identity: a new object is a new poll)
   * @param fallback the client's handler, for what this one does not cache
   * @param maxAgeNanos how long one rendering may be served even if no poll replaced it
   * @param rendered told of each rendering: {@code ahead} of an expected scrape, or {@code
   *     on_scrape}
   */
  ScrapeCache(
      PrometheusRegistry registry,
      Prerendered prerendered,
      Supplier<?> snapshot,
      HttpHandler fallback,
      long maxAgeNanos,
      Consumer<String> rendered) {
    this.registry = registry;
    this.prerendered = prerendered;
    this.snapshot = snapshot;
    this.fallback = fallback;
    this.maxAgeNanos = maxAgeNanos;
    this.rendered = rendered;
  }

  /** Stops rendering ahead. */
  void close() {
    ahead.shutdownNow();
  }

  /**
   * The renderings of {@code now}: the current ones, or new ones if they are of another snapshot.
   */
  @SuppressWarnings("ReferenceEquality") // the very snapshot object a rendering was made from
  private Rendered rendering(Object now, long t) {
    Rendered r = current;
    if (r == null || r.snapshot() != now || t - r.atNanos() > maxAgeNanos) {
      r = new Rendered(now, t, new ConcurrentHashMap<>());
      current = r; // a racing scrape may start its own; both serve what they rendered
    }
    return r;
  }

  private byte[] render(ExpositionFormatWriter writer, EscapingScheme escaping, String when)
      throws IOException {
    rendered.accept(when);
    return Exposition.render(registry, prerendered, writer, escaping);
  }

  /**
   * A new poll's {@code snapshot} is out: renders it now, off the scrape path, in each format whose
   * scraper is expected back before the next poll (its last scrape plus its interval). A scraper
   * that comes every few polls thus finds its poll rendered, and no rendering is made that no
   * scrape is expected to read.
   */
  void published(Object snapshot, long pollIntervalNanos) {
    long now = System.nanoTime();
    for (Demand d : demand.values()) {
      if (d.expectedBefore(now, now + pollIntervalNanos)) {
        ahead.execute(
            () -> {
              Body body = d.body(rendering(snapshot, System.nanoTime()));
              Render render = () -> render(d.writer, d.escaping, "ahead");
              try {
                if (d.gzip) {
                  body.gzip(render);
                } else {
                  body.plain(render);
                }
              } catch (IOException | RuntimeException e) {
                // the scrape renders it then, and reports what goes wrong
              }
            });
      }
    }
  }

  /** How one format is scraped: when last, how often, whether compressed. */
  private static final class Demand {
    final ExpositionFormatWriter writer;
    final EscapingScheme escaping;
    final String contentType;
    final String key;
    volatile long lastNanos;
    volatile long intervalNanos;
    volatile boolean gzip;

    Demand(ExpositionFormatWriter writer, EscapingScheme escaping) {
      this.writer = writer;
      this.escaping = escaping;
      this.contentType = writer.getContentType();
      this.key = key(writer, escaping);
    }

    static String key(ExpositionFormatWriter writer, EscapingScheme escaping) {
      return writer.getContentType() + "|" + escaping;
    }

    /** This format's bytes among {@code r}'s renderings (made on first use). */
    Body body(Rendered r) {
      return r.bodies().computeIfAbsent(key, k -> new Body(contentType));
    }

    synchronized void scraped(long t, boolean gzip) {
      if (lastNanos != 0) {
        intervalNanos = t - lastNanos;
      }
      lastNanos = t;
      this.gzip = gzip;
    }

    /** Whether the next scrape, at the interval seen last, falls in [{@code from}, {@code to}). */
    boolean expectedBefore(long from, long to) {
      long interval = intervalNanos;
      long last = lastNanos;
      if (interval <= 0 || from - last > 3 * interval) {
        return false; // no regular scraper (yet, or any more)
      }
      long next = last + interval;
      while (next < from) {
        next += interval;
      }
      return next < to;
    }
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    String query = ex.getRequestURI().getRawQuery();
    String method = ex.getRequestMethod();
    if ((query != null && FILTERS.matcher(query).find())
        || !("GET".equals(method) || "HEAD".equals(method))) {
      fallback.handle(ex);
      return;
    }
    String accept = ex.getRequestHeaders().getFirst("Accept");
    ExpositionFormatWriter writer = formats.findWriter(accept);
    EscapingScheme escaping = EscapingScheme.fromAcceptHeader(accept);
    long t = System.nanoTime();
    boolean gzip = acceptsGzip(ex.getRequestHeaders().get("Accept-Encoding"));
    Demand d =
        demand.computeIfAbsent(Demand.key(writer, escaping), k -> new Demand(writer, escaping));
    d.scraped(t, gzip);
    Body body = d.body(rendering(snapshot.get(), t));
    Render render = () -> render(writer, escaping, "on_scrape");
    byte[] bytes = gzip ? body.gzip(render) : body.plain(render);
    ex.getResponseHeaders().set("Content-Type", body.contentType);
    if (gzip) {
      ex.getResponseHeaders().set("Content-Encoding", "gzip");
    }
    WebServer.respond(ex, 200, bytes);
  }

  /**
   * gzip at the fastest level: made once per poll, it is on the path of the scrape that asks first;
   * Prometheus decompresses every level alike.
   */
  private static final class FastGzip extends GZIPOutputStream {
    FastGzip(OutputStream out) throws IOException {
      super(out, 1 << 16);
      def.setLevel(Deflater.BEST_SPEED);
    }
  }

  private static boolean acceptsGzip(List<String> headers) {
    if (headers == null) {
      return false;
    }
    for (String h : headers) {
      for (String coding : h.split(",")) {
        String c = coding.strip().toLowerCase(Locale.ROOT);
        int semi = c.indexOf(';');
        String name = semi < 0 ? c : c.substring(0, semi).strip();
        if (name.equals("gzip") && !c.replace(" ", "").endsWith(";q=0")) {
          return true;
        }
      }
    }
    return false;
  }
}
