package io.dynamometrics.web;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** Renders a registry's exposition, taking the families written ahead as they are. */
public final class Exposition {
  private Exposition() {}

  /**
   * The whole exposition in {@code writer}'s format: the families written ahead as they are, merged
   * by name with the registry's other families, written by the client's writer (one family at a
   * time, so that the order is the client's). Formats other than the two text ones are the client's
   * alone.
   */
  public static byte[] render(
      PrometheusRegistry registry,
      Prerendered prerendered,
      ExpositionFormatWriter writer,
      EscapingScheme escaping)
      throws IOException {
    boolean openMetrics = writer instanceof OpenMetricsTextFormatWriter;
    List<Prerendered.Family> ahead =
        prerendered == null || !(openMetrics || writer instanceof PrometheusTextFormatWriter)
            ? List.of()
            : prerendered.families();
    if (ahead.isEmpty()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
      writer.write(out, registry.scrape(), escaping);
      return out.toByteArray();
    }
    Set<String> aheadNames = prerendered.names();
    MetricSnapshots rest = registry.scrape(name -> !aheadNames.contains(name));
    // the registry's own families first, one at a time (they are small), then every part copied
    // once into an array of the exposition's exact size
    List<byte[]> parts = new ArrayList<>(2 * (ahead.size() + rest.size()) + 1);
    ByteArrayOutputStream one = new ByteArrayOutputStream(4096);
    int i = 0;
    for (MetricSnapshot s : rest) {
      String name = s.getMetadata().getPrometheusName();
      for (; i < ahead.size() && ahead.get(i).name().compareTo(name) < 0; i++) {
        add(parts, ahead.get(i), openMetrics);
      }
      one.reset();
      writer.write(one, MetricSnapshots.of(s), escaping);
      // each OpenMetrics rendering ends the exposition; only the last one may
      byte[] family = one.toByteArray();
      parts.add(openMetrics ? Arrays.copyOf(family, family.length - EOF.length) : family);
    }
    for (; i < ahead.size(); i++) {
      add(parts, ahead.get(i), openMetrics);
    }
    if (openMetrics) {
      parts.add(EOF);
    }
    long size = 0;
    for (byte[] p : parts) {
      size += p.length;
    }
    byte[] out = new byte[Math.toIntExact(size)];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  private static void add(List<byte[]> parts, Prerendered.Family f, boolean openMetrics) {
    parts.add(f.header(openMetrics));
    parts.add(f.samples());
  }

  private static final byte[] EOF = "# EOF\n".getBytes(StandardCharsets.US_ASCII);
}
