package io.dynamometrics.export;

import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.HitRates;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.web.Prerendered;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The fleet series of metrics.md from the latest snapshot: a worker that left the snapshot has no
 * series, by construction. The snapshot's gauges ({@link FleetSeries}) are built once per snapshot,
 * as the client's snapshots (for protobuf, push and filtered scrapes) or as exposition text ({@link
 * #families()}, for the text scrapes), whichever is asked for. The hit-rate counters, which move
 * between polls, are read at each collect; as text they are written with the snapshot's gauges, as
 * of the first scrape of that snapshot. It only reads immutable data, so concurrent scrapes are
 * safe and never wait for a poll.
 */
public final class FleetCollector implements MultiCollector, Prerendered {
  private final Supplier<FleetSnapshot> fleet;
  private final HitRates hitRates;
  private final BooleanSupplier leader;
  private final FleetText text = new FleetText();

  private volatile Rendered rendered;

  /**
   * @param leader whether to export at all: a standby shows no fleet series
   */
  public FleetCollector(Supplier<FleetSnapshot> fleet, HitRates hitRates, BooleanSupplier leader) {
    this.fleet = fleet;
    this.hitRates = hitRates;
    this.leader = leader;
  }

  /** What was built from one snapshot, each form on first use; shared until the next poll. */
  private static final class Rendered {
    private final FleetSnapshot source;
    private List<MetricSnapshot> snapshots;
    private List<Family> families;

    Rendered(FleetSnapshot source) {
      this.source = source;
    }

    synchronized List<MetricSnapshot> snapshots() {
      if (snapshots == null) {
        snapshots = fleetFamilies(source);
      }
      return snapshots;
    }

    /** With the hit-rate counters as of the first call: a scrape renders a poll once. */
    synchronized List<Family> families(FleetText text, HitRates hitRates) {
      if (families == null) {
        families = text.render(source, hitRates.read());
      }
      return families;
    }
  }

  @SuppressWarnings("ReferenceEquality") // the very snapshot object the families were built from
  private Rendered current() {
    FleetSnapshot snapshot = fleet.get();
    Rendered r = rendered;
    if (r == null || r.source != snapshot) {
      r = new Rendered(snapshot); // a racing scrape may make its own; both build equal families
      rendered = r;
    }
    return r;
  }

  @Override
  public MetricSnapshots collect() {
    return collect(name -> true, null);
  }

  @Override
  public MetricSnapshots collect(Predicate<String> includedNames, PrometheusScrapeRequest request) {
    if (!leader.getAsBoolean()) {
      return MetricSnapshots.of();
    }
    List<MetricSnapshot> out = new ArrayList<>();
    if (FleetSeries.NAMES.stream().anyMatch(includedNames)) { // left out when written ahead
      for (MetricSnapshot s : current().snapshots()) {
        if (includedNames.test(s.getMetadata().getPrometheusName())) {
          out.add(s);
        }
      }
    }
    hitRateFamilies(out, includedNames);
    return new MetricSnapshots(out);
  }

  @Override
  public List<Family> families() {
    return leader.getAsBoolean() ? current().families(text, hitRates) : List.of();
  }

  @Override
  public Set<String> names() {
    return FleetSeries.ALL_NAMES;
  }

  /** The snapshot's gauges as the client's snapshots. */
  private static List<MetricSnapshot> fleetFamilies(FleetSnapshot snapshot) {
    List<Families.Gauge> perWorker = new ArrayList<>();
    for (FleetSeries.WorkerGauge g : FleetSeries.WORKER) {
      perWorker.add(new Families.Gauge(g.name(), g.help()));
    }
    Families.Info info = new Families.Info(FleetSeries.WORKER_INFO, FleetSeries.WORKER_INFO_HELP);
    List<Families.Gauge> perEndpoint = new ArrayList<>();
    for (FleetSeries.EndpointGauge g : FleetSeries.ENDPOINT) {
      perEndpoint.add(new Families.Gauge(g.name(), g.help()));
    }
    for (EndpointFleet e : snapshot.endpoints()) {
      Target t = e.target();
      for (Worker w : e.workers()) {
        Labels labels = FleetText.workerLabels(t, w.key());
        for (int i = 0; i < perWorker.size(); i++) {
          perWorker.get(i).add(labels, FleetSeries.WORKER.get(i).value().applyAsDouble(w));
        }
        info.add(labels.add("intake", w.intake()));
      }
      Labels labels = FleetText.endpointLabels(t);
      for (int i = 0; i < perEndpoint.size(); i++) {
        perEndpoint.get(i).add(labels, FleetSeries.ENDPOINT.get(i).value().applyAsDouble(e));
      }
    }
    List<MetricSnapshot> out = new ArrayList<>(perWorker.size() + perEndpoint.size());
    perWorker.forEach(g -> g.addTo(out));
    info.addTo(out);
    perEndpoint.forEach(g -> g.addTo(out));
    return List.copyOf(out);
  }

  /** The hit-rate counters, which move between polls, read at each collect. */
  private void hitRateFamilies(List<MetricSnapshot> out, Predicate<String> includedNames) {
    List<FleetSeries.WorkerCounter> wanted =
        FleetSeries.HIT_RATES.stream().filter(c -> includedNames.test(c.name())).toList();
    if (wanted.isEmpty()) {
      return;
    }
    List<Families.Counter> families = new ArrayList<>();
    wanted.forEach(c -> families.add(new Families.Counter(c.name(), c.help())));
    for (HitRates.Counter c : hitRates.read()) {
      Labels labels = FleetText.counterLabels(c);
      for (int i = 0; i < wanted.size(); i++) {
        families.get(i).add(labels, wanted.get(i).value().applyAsDouble(c));
      }
    }
    families.forEach(f -> f.addTo(out));
  }
}
