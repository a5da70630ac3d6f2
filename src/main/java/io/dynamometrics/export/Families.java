package io.dynamometrics.export;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/** Accumulates the data points of one metric family while the collector walks the fleet. */
final class Families {
  private static final String RESERVED_SUFFIX = "_total";

  private Families() {}

  static final class Gauge {
    private final String name;
    private final String help;
    private final List<GaugeDataPointSnapshot> points = new ArrayList<>();

    Gauge(String name, String help) {
      this.name = name;
      this.help = help;
    }

    /** Adds a sample; {@code NaN} means "no value" and adds nothing (we never export NaN). */
    void add(Labels labels, double value) {
      if (!Double.isNaN(value)) {
        points.add(new GaugeDataPointSnapshot(value, labels, null));
      }
    }

    void addTo(List<MetricSnapshot> out) {
      if (!points.isEmpty()) {
        out.add(new GaugeSnapshot(metadata(name, help), points));
      }
    }
  }

  static final class Counter {
    private final String name;
    private final String help;
    private final List<CounterDataPointSnapshot> points = new ArrayList<>();

    /**
     * @param name without the {@code _total} suffix, which the exposition adds
     */
    Counter(String name, String help) {
      this.name = name;
      this.help = help;
    }

    void add(Labels labels, double value) {
      points.add(new CounterDataPointSnapshot(value, labels, null, 0));
    }

    void addTo(List<MetricSnapshot> out) {
      if (!points.isEmpty()) {
        out.add(new CounterSnapshot(new MetricMetadata(name, help), points));
      }
    }
  }

  /** An info family: one data point per label set, always 1. */
  static final class Info {
    private final String name;
    private final String help;
    private final List<InfoSnapshot.InfoDataPointSnapshot> points = new ArrayList<>();

    /**
     * @param name without the {@code _info} suffix, which the exposition adds
     */
    Info(String name, String help) {
      this.name = name;
      this.help = help;
    }

    void add(Labels labels) {
      points.add(new InfoSnapshot.InfoDataPointSnapshot(labels));
    }

    void addTo(List<MetricSnapshot> out) {
      if (!points.isEmpty()) {
        out.add(new InfoSnapshot(new MetricMetadata(name, help), points));
      }
    }
  }

  /**
   * Metadata for {@code name}. Dynamo's dashboards read a gauge named {@code llm_kv_blocks_total};
   * the Prometheus client rejects gauge names ending in {@code _total} (a reserved suffix), so that
   * one name is set after the client validated its stem. The exposition writers print the name as
   * given; the golden-file test proves it for every format.
   */
  static MetricMetadata metadata(String name, String help) {
    if (!name.endsWith(RESERVED_SUFFIX)) {
      return new MetricMetadata(name, help);
    }
    MetricMetadata m =
        new MetricMetadata(name.substring(0, name.length() - RESERVED_SUFFIX.length()), help);
    try {
      for (String fieldName : new String[] {"name", "prometheusName"}) {
        Field f = MetricMetadata.class.getDeclaredField(fieldName);
        f.setAccessible(true);
        f.set(m, name);
      }
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          "cannot name gauge " + name + " with this Prometheus client", e);
    }
    return m;
  }
}
