package io.dynamometrics.export;

import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.fleet.WorkerKey;
import io.dynamometrics.web.Prerendered.Family;
import io.dynamometrics.wire.Bytes;
import io.dynamometrics.wire.ForwardPassMetrics;
import io.prometheus.metrics.model.snapshots.Labels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Writes the {@link FleetSeries} of a snapshot as exposition text, byte for byte what the client
 * library's text 0.0.4 and OpenMetrics writers produce for the same series, much faster: each
 * series' label set is escaped and encoded once, when the worker first appears, and kept while it
 * stays (as kube-state-metrics keeps its objects' lines), so a poll only writes names and numbers.
 * Samples are in the client's order (by label set), families by name.
 */
final class FleetText {
  private record WorkerRef(Target target, WorkerKey key) {}

  /** A series' labels, for ordering as the client does, and its {@code {...}} as bytes. */
  private record Selector(Labels labels, byte[] bytes) {}

  private record Row<T>(Selector selector, T source) {}

  private static final Comparator<Row<?>> BY_LABELS =
      Comparator.comparing(r -> r.selector().labels());

  private Map<WorkerRef, Selector> workers = new HashMap<>();
  private Map<Target, Selector> endpoints = new HashMap<>();

  /**
   * The snapshot's gauges and the hit-rate {@code counters}, sorted by name; families without a
   * sample are left out.
   */
  synchronized List<Family> render(FleetSnapshot snapshot, List<HitRates.Counter> counters) {
    Map<WorkerRef, Selector> nextWorkers = new HashMap<>(workers.size() * 2);
    Map<Target, Selector> nextEndpoints = new HashMap<>();
    List<Row<Worker>> workerRows = new ArrayList<>();
    List<Row<EndpointFleet>> endpointRows = new ArrayList<>();
    for (EndpointFleet e : snapshot.endpoints()) {
      Target t = e.target();
      Selector es = endpoints.get(t);
      if (es == null) {
        es = selector(endpointLabels(t));
      }
      nextEndpoints.put(t, es);
      endpointRows.add(new Row<>(es, e));
      for (Worker w : e.workers()) {
        workerRows.add(new Row<>(workerSelector(nextWorkers, new WorkerRef(t, w.key())), w));
      }
    }
    List<Row<HitRates.Counter>> counterRows = new ArrayList<>(counters.size());
    for (HitRates.Counter c : counters) {
      WorkerRef ref = new WorkerRef(c.target(), counterKey(c));
      counterRows.add(new Row<>(workerSelector(nextWorkers, ref), c));
    }
    workers = nextWorkers; // departed workers' selectors go with the old map
    endpoints = nextEndpoints;
    workerRows.sort(BY_LABELS);
    endpointRows.sort(BY_LABELS);
    counterRows.sort(BY_LABELS);

    List<Family> out = new ArrayList<>();
    // a sample line: the name, the label set, a number; sized for the largest family at once
    int longest = 0;
    for (Row<Worker> r : workerRows) {
      longest = Math.max(longest, r.selector().bytes().length);
    }
    Bytes samples =
        new Bytes(Math.max(workerRows.size(), counterRows.size()) * (longest + 64) + 256);
    for (FleetSeries.WorkerGauge g : FleetSeries.WORKER) {
      samples(samples, g.name(), workerRows, g.value());
      family(out, g.name(), g.help(), samples);
    }
    infoFamily(out, workerRows, samples);
    for (FleetSeries.EndpointGauge g : FleetSeries.ENDPOINT) {
      samples(samples, g.name(), endpointRows, g.value());
      family(out, g.name(), g.help(), samples);
    }
    for (FleetSeries.WorkerCounter c : FleetSeries.HIT_RATES) {
      samples(samples, c.name() + "_total", counterRows, c.value());
      counterFamily(out, c.name(), c.help(), samples);
    }
    out.sort(Comparator.comparing(Family::name));
    return out;
  }

  /**
   * {@code ref}'s selector, kept in {@code next}: the one this poll already made, else last poll's,
   * else a new one.
   */
  private Selector workerSelector(Map<WorkerRef, Selector> next, WorkerRef ref) {
    Selector s = next.get(ref);
    if (s == null) {
      s = workers.get(ref);
    }
    if (s == null) {
      s = selector(workerLabels(ref.target(), ref.key()));
    }
    next.put(ref, s);
    return s;
  }

  static Labels endpointLabels(Target t) {
    return Labels.of(
        "namespace", t.namespace(), "component", t.component(), "endpoint", t.endpoint());
  }

  static Labels workerLabels(Target t, WorkerKey k) {
    Labels l = endpointLabels(t).add("worker_id", Long.toString(k.workerId()));
    return k.hasRank() ? l.add("dp_rank", Integer.toString(k.dpRank())) : l;
  }

  /** A hit-rate counter's labels: the worker's, without a rank (events name none). */
  static Labels counterLabels(HitRates.Counter c) {
    return workerLabels(c.target(), counterKey(c));
  }

  private static WorkerKey counterKey(HitRates.Counter c) {
    return new WorkerKey(c.workerId(), ForwardPassMetrics.NO_RANK);
  }

  /** {@code out} emptied, then one sample line per row that has a value. */
  private static <T> void samples(
      Bytes out, String name, List<Row<T>> rows, ToDoubleFunction<T> value) {
    out.reset();
    byte[] nameBytes = ascii(name);
    for (Row<T> r : rows) {
      sample(out, nameBytes, r.selector(), value.applyAsDouble(r.source()));
    }
  }

  private static void sample(Bytes out, byte[] name, Selector s, double value) {
    if (Double.isNaN(value)) {
      return; // "no value": no sample, as in the client's snapshots
    }
    out.write(name);
    out.write(s.bytes());
    out.write(' ');
    number(out, value);
    out.write('\n');
  }

  /**
   * {@code value} as the client's writers write it: {@link Double#toString}, with {@code +Inf} and
   * {@code -Inf}. Whole numbers below ten million, which most fleet values are (blocks, slots,
   * requests), are written digit by digit: {@code Double.toString} writes them as the digits and
   * {@code .0} too.
   */
  static void number(Bytes out, double value) {
    long whole = (long) value;
    if (whole == value
        && whole > -PLAIN_LIMIT
        && whole < PLAIN_LIMIT
        && (whole != 0 || Double.doubleToRawLongBits(value) == 0)) { // -0.0 is written "-0.0"
      out.digits(whole);
      out.write('.');
      out.write('0');
    } else if (value == Double.POSITIVE_INFINITY) {
      out.ascii("+Inf");
    } else if (value == Double.NEGATIVE_INFINITY) {
      out.ascii("-Inf");
    } else {
      out.ascii(Double.toString(value));
    }
  }

  /** From ten million, {@link Double#toString} writes scientific notation ({@code 1.0E7}). */
  private static final long PLAIN_LIMIT = 10_000_000L;

  private static void family(List<Family> out, String name, String help, Bytes samples) {
    add(out, name, name, "gauge", name, "gauge", help, samples);
  }

  /**
   * The workers' info family: text 0.0.4 writes it as the gauge {@code llm_worker_info},
   * OpenMetrics as the info family {@code llm_worker}; each sample is {@code llm_worker_info{...}
   * 1}, as the client's writers write info samples. Its label set is the worker's with {@code
   * intake} added, which sorts between {@code endpoint} and {@code namespace}: it is spliced into
   * the worker's selector as it is written, so the info series keeps nothing per worker, and its
   * samples come in the worker rows' order (the intake never decides the order: every worker has
   * one).
   */
  private static void infoFamily(List<Family> out, List<Row<Worker>> workerRows, Bytes samples) {
    samples.reset();
    String name = FleetSeries.WORKER_INFO;
    byte[] sampleName = ascii(name + "_info");
    for (Row<Worker> r : workerRows) {
      byte[] sel = r.selector().bytes();
      int at = indexOf(sel, NAMESPACE_LABEL);
      samples.write(sampleName);
      samples.write(sel, 0, at);
      samples.write(INTAKE_LABEL);
      samples.ascii(r.source().intake());
      samples.write('"');
      samples.write(sel, at, sel.length - at);
      samples.write(' ');
      samples.write('1');
      samples.write('\n');
    }
    add(out, name, name + "_info", "gauge", name, "info", FleetSeries.WORKER_INFO_HELP, samples);
  }

  /**
   * Where the {@code namespace} label starts in a worker's selector: a quote inside a value is
   * escaped, so these bytes only ever occur at the label's start.
   */
  private static final byte[] NAMESPACE_LABEL = ascii(",namespace=\"");

  private static final byte[] INTAKE_LABEL = ascii(",intake=\"");

  private static int indexOf(byte[] in, byte[] what) {
    outer:
    for (int i = 0; i + what.length <= in.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (in[i + j] != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalStateException("a worker selector without a namespace label");
  }

  /** A counter: text 0.0.4 names the family with {@code _total}, OpenMetrics without. */
  private static void counterFamily(List<Family> out, String name, String help, Bytes samples) {
    add(out, name, name + "_total", "counter", name, "counter", help, samples);
  }

  private static void add(
      List<Family> out,
      String name,
      String textName,
      String textType,
      String openMetricsName,
      String openMetricsType,
      String help,
      Bytes samples) {
    if (samples.size() == 0) {
      return;
    }
    String escaped = escapeHelp(help);
    byte[] text =
        ("# HELP " + textName + " " + escaped + "\n# TYPE " + textName + " " + textType + "\n")
            .getBytes(StandardCharsets.UTF_8);
    byte[] openMetrics =
        ("# TYPE "
                + openMetricsName
                + " "
                + openMetricsType
                + "\n# HELP "
                + openMetricsName
                + " "
                + escaped
                + "\n")
            .getBytes(StandardCharsets.UTF_8);
    out.add(new Family(name, text, openMetrics, samples.toByteArray()));
  }

  /**
   * {@code {name="value",...}} in the labels' (sorted) order, values escaped as the formats ask.
   */
  private static Selector selector(Labels labels) {
    StringBuilder sb = new StringBuilder(128).append('{');
    for (int i = 0; i < labels.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(labels.getName(i)).append("=\"");
      escapeLabelValue(sb, labels.getValue(i));
      sb.append('"');
    }
    sb.append('}');
    return new Selector(labels, sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static void escapeLabelValue(StringBuilder sb, String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        case '\n' -> sb.append("\\n");
        default -> sb.append(c);
      }
    }
  }

  private static String escapeHelp(String help) {
    return help.replace("\\", "\\\\").replace("\n", "\\n");
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
