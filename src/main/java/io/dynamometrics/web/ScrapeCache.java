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
import java.util.function.Supplier;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * {@code /metrics} rendered once per fleet snapshot: the first scrape of a snapshot renders the
 * whole registry with the client library's writer for the format it asked for (text 0.0.4,
 * OpenMetrics or protobuf, with its name escaping), and every later scrape of that snapshot, in
 * that format, gets the same bytes, gzip-compressed once too when asked for. A new poll's snapshot
 * starts afresh. Series that move between polls (hit-rate counters, the JVM's) are therefore as of
 * the snapshot's first scrape, at most {@code maxAgeNanos} old. Requests with {@code name[]} or
 * {@code debug} go to the client's own handler.
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
   */
  ScrapeCache(
      PrometheusRegistry registry,
      Prerendered prerendered,
      Supplier<?> snapshot,
      HttpHandler fallback,
      long maxAgeNanos) {
    this.registry = registry;
    this.prerendered = prerendered;
    this.snapshot = snapshot;
    this.fallback = fallback;
    this.maxAgeNanos = maxAgeNanos;
  }

  @Override
  @SuppressWarnings("ReferenceEquality") // the very snapshot object a rendering was made from
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
    String contentType = writer.getContentType();
    Object now = snapshot.get();
    long t = System.nanoTime();
    Rendered r = current;
    if (r == null || r.snapshot() != now || t - r.atNanos() > maxAgeNanos) {
      r = new Rendered(now, t, new ConcurrentHashMap<>());
      current = r; // a racing scrape may start its own; both serve what they rendered
    }
    Body body =
        r.bodies().computeIfAbsent(contentType + "|" + escaping, k -> new Body(contentType));
    boolean gzip = acceptsGzip(ex.getRequestHeaders().get("Accept-Encoding"));
    Render render = () -> Exposition.render(registry, prerendered, writer, escaping);
    byte[] bytes = gzip ? body.gzip(render) : body.plain(render);
    try (ex) {
      ex.getResponseHeaders().set("Content-Type", body.contentType);
      if (gzip) {
        ex.getResponseHeaders().set("Content-Encoding", "gzip");
      }
      boolean head = "HEAD".equals(method);
      ex.sendResponseHeaders(200, head ? -1 : bytes.length);
      if (!head) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
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
