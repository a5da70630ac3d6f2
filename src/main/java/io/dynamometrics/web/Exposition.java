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
    int size = 1 << 16; // the registry's own families are small
    for (Prerendered.Family f : ahead) {
      size += f.header(openMetrics).length + f.samples().length;
    }
    // one copy of the fleet's bytes, not one per doubling
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    MetricSnapshots rest = registry.scrape(name -> !aheadNames.contains(name));
    ByteArrayOutputStream one = new ByteArrayOutputStream(4096);
    int i = 0;
    for (MetricSnapshot s : rest) {
      String name = s.getMetadata().getPrometheusName();
      for (; i < ahead.size() && ahead.get(i).name().compareTo(name) < 0; i++) {
        write(out, ahead.get(i), openMetrics);
      }
      one.reset();
      writer.write(one, MetricSnapshots.of(s), escaping);
      // each OpenMetrics rendering ends the exposition; only the last one may
      out.write(one.toByteArray(), 0, one.size() - (openMetrics ? EOF.length : 0));
    }
    for (; i < ahead.size(); i++) {
      write(out, ahead.get(i), openMetrics);
    }
    if (openMetrics) {
      out.write(EOF);
    }
    return out.toByteArray();
  }

  private static void write(ByteArrayOutputStream out, Prerendered.Family f, boolean openMetrics) {
    out.writeBytes(f.header(openMetrics));
    out.writeBytes(f.samples());
  }

  private static final byte[] EOF = "# EOF\n".getBytes(StandardCharsets.US_ASCII);
}
