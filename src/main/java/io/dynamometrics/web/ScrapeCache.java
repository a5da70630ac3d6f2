package io.dynamometrics.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
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
        try (GZIPOutputStream z = new GZIPOutputStream(out, 1 << 16)) {
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
    Render render = () -> render(writer, escaping);
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
   * The whole exposition in {@code writer}'s format: the families written ahead as they are, merged
   * by name with the registry's other families, written by the client's writer (one family at a
   * time, so that the order is the client's). Formats other than the two text ones are the client's
   * alone.
   */
  private byte[] render(ExpositionFormatWriter writer, EscapingScheme escaping) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
    boolean openMetrics = writer instanceof OpenMetricsTextFormatWriter;
    List<Prerendered.Family> ahead =
        prerendered == null || !(openMetrics || writer instanceof PrometheusTextFormatWriter)
            ? List.of()
            : prerendered.families();
    if (ahead.isEmpty()) {
      writer.write(out, registry.scrape(), escaping);
      return out.toByteArray();
    }
    Set<String> aheadNames = new HashSet<>();
    ahead.forEach(f -> aheadNames.add(f.name()));
    MetricSnapshots rest = registry.scrape(name -> !aheadNames.contains(name));
    ByteArrayOutputStream one = new ByteArrayOutputStream(4096);
    int i = 0;
    for (MetricSnapshot s : rest) {
      String name = s.getMetadata().getPrometheusName();
      for (; i < ahead.size() && ahead.get(i).name().compareTo(name) < 0; i++) {
        out.write(openMetrics ? ahead.get(i).openMetrics() : ahead.get(i).text());
      }
      one.reset();
      writer.write(one, MetricSnapshots.of(s), escaping);
      // each OpenMetrics rendering ends the exposition; only the last one may
      out.write(one.toByteArray(), 0, one.size() - (openMetrics ? EOF.length : 0));
    }
    for (; i < ahead.size(); i++) {
      out.write(openMetrics ? ahead.get(i).openMetrics() : ahead.get(i).text());
    }
    if (openMetrics) {
      out.write(EOF);
    }
    return out.toByteArray();
  }

  private static final byte[] EOF = "# EOF\n".getBytes(StandardCharsets.US_ASCII);

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
