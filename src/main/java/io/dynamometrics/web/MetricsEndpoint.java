package io.dynamometrics.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.dynamometrics.export.FleetCollector;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

/**
 * {@code /metrics} with the fleet rendered once per poll. The families of a snapshot (every
 * per-worker series) are written to bytes, and gzip-compressed, on the first scrape of that
 * snapshot and kept; every later scrape of the same snapshot writes those bytes, merged in name
 * order with the few families that change between polls (hit-rate counters, the JVM, the service's
 * own), which are written fresh. The output is byte for byte what the client's own handler writes;
 * gzip is a series of gzip members, one per family (RFC 1952), which every gzip reader reads as one
 * stream. Protobuf, query parameters ({@code name[]}, {@code debug}) and escaping requests take the
 * client's handler.
 */
final class MetricsEndpoint implements HttpHandler {
  private static final byte[] EOF = "# EOF\n".getBytes(StandardCharsets.UTF_8);

  private final PrometheusRegistry registry;
  private final FleetCollector fleet;
  private final HttpHandler fallback;
  private final ExpositionFormats formats = ExpositionFormats.init();
  private volatile Cache text;
  private volatile Cache openMetrics;

  /** One family written alone: its name, its bytes, and (made on first need) their gzip member. */
  private static final class Piece {
    final String name;
    final byte[] bytes;
    private volatile byte[] gzip;

    Piece(String name, byte[] bytes) {
      this.name = name;
      this.bytes = bytes;
    }

    byte[] gzip() {
      byte[] g = gzip;
      if (g == null) {
        g = compress(bytes);
        gzip = g;
      }
      return g;
    }
  }

  /** The pieces of one snapshot in one format. */
  private record Cache(Object snapshot, List<Piece> pieces, Set<String> names) {}

  MetricsEndpoint(PrometheusRegistry registry, FleetCollector fleet) {
    this.registry = registry;
    this.fleet = fleet;
    this.fallback = new MetricsHandler(registry);
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    String accept = ex.getRequestHeaders().getFirst("Accept");
    ExpositionFormatWriter writer = formats.findWriter(accept);
    boolean openMetrics = writer instanceof OpenMetricsTextFormatWriter;
    if (ex.getRequestURI().getRawQuery() != null
        || !(openMetrics || writer instanceof PrometheusTextFormatWriter)
        || (accept != null && accept.contains("escaping="))) {
      fallback.handle(ex);
      return;
    }
    FleetCollector.Parts parts = fleet.parts();
    Cache cache = cache(parts, writer, openMetrics);
    List<Piece> rest = new ArrayList<>();
    for (MetricSnapshot s : registry.scrape(name -> !cache.names().contains(name))) {
      rest.add(piece(writer, s, openMetrics));
    }
    boolean gzip = accepts(ex.getRequestHeaders().getFirst("Accept-Encoding"));
    List<byte[]> body = new ArrayList<>();
    int i = 0;
    int j = 0;
    List<Piece> cached = cache.pieces();
    while (i < cached.size() || j < rest.size()) {
      Piece next =
          j >= rest.size()
                  || (i < cached.size() && cached.get(i).name.compareTo(rest.get(j).name) <= 0)
              ? cached.get(i++)
              : rest.get(j++);
      body.add(gzip ? next.gzip() : next.bytes);
    }
    if (openMetrics) {
      body.add(gzip ? compress(EOF) : EOF);
    }
    long length = 0;
    for (byte[] b : body) {
      length += b.length;
    }
    try (ex) {
      ex.getResponseHeaders().set("Content-Type", writer.getContentType());
      if (gzip) {
        ex.getResponseHeaders().set("Content-Encoding", "gzip");
      }
      boolean head = "HEAD".equals(ex.getRequestMethod());
      ex.sendResponseHeaders(200, head ? -1 : length == 0 ? -1 : length);
      if (!head) {
        try (OutputStream out = ex.getResponseBody()) {
          for (byte[] b : body) {
            out.write(b);
          }
        }
      }
    }
  }

  /** The snapshot's pieces in this format, written once per snapshot. */
  @SuppressWarnings("ReferenceEquality") // the very snapshot object the pieces were written from
  private Cache cache(
      FleetCollector.Parts parts, ExpositionFormatWriter writer, boolean openMetrics)
      throws IOException {
    Cache c = openMetrics ? this.openMetrics : text;
    if (c != null && c.snapshot() == parts.snapshot()) {
      return c;
    }
    List<Piece> pieces = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (MetricSnapshot s : parts.perSnapshot()) {
      pieces.add(piece(writer, s, openMetrics));
      names.add(s.getMetadata().getPrometheusName());
    }
    pieces.sort(Comparator.comparing(p -> p.name));
    c =
        new Cache(
            parts.snapshot(), List.copyOf(pieces), Set.copyOf(names)); // racing scrapes: equal
    if (openMetrics) {
      this.openMetrics = c;
    } else {
      text = c;
    }
    return c;
  }

  /** One family as the writer writes it, without OpenMetrics' closing {@code # EOF}. */
  private static Piece piece(ExpositionFormatWriter writer, MetricSnapshot s, boolean openMetrics)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    writer.write(out, MetricSnapshots.of(s));
    byte[] bytes = out.toByteArray();
    if (openMetrics && endsWith(bytes, EOF)) {
      bytes = Arrays.copyOf(bytes, bytes.length - EOF.length);
    }
    return new Piece(s.getMetadata().getPrometheusName(), bytes);
  }

  private static boolean endsWith(byte[] b, byte[] suffix) {
    return b.length >= suffix.length
        && Arrays.equals(b, b.length - suffix.length, b.length, suffix, 0, suffix.length);
  }

  private static boolean accepts(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    for (String e : acceptEncoding.split(",")) {
      if (e.strip().toLowerCase(java.util.Locale.ROOT).startsWith("gzip")) {
        return true;
      }
    }
    return false;
  }

  private static byte[] compress(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 4 + 64);
    try (GZIPOutputStream gz = new GZIPOutputStream(out, 8192)) {
      gz.write(bytes);
    } catch (IOException e) {
      throw new IllegalStateException(e); // memory streams do not fail
    }
    return out.toByteArray();
  }
}
