package io.dynamometrics.poll;

import io.dynamometrics.fleet.Target;
import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Which endpoints to poll: a fixed one (both {@code --component} and {@code --endpoint} given), or
 * what discovery finds, refreshed in the background so that polls never wait for it. A discovered
 * endpoint stays for {@link #RETAIN} after discovery last found it, so that an endpoint whose
 * workers all died (or NATS going away) shows {@code llm_workers 0} and can raise an alert, rather
 * than silently vanishing; after that it is dropped, as an endpoint taken down on purpose should
 * be.
 */
public final class Targets implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Targets.class.getName());

  private final Set<Target> fixed;
  private final Discovery discovery;
  private final String component;
  private final String endpoint;
  private final Duration refresh;
  private volatile SortedSet<Target> discovered =
      Collections.emptySortedSet(); // replaced whole, never changed
  private final Map<Target, Long> lastFound = new HashMap<>(); // discovery thread only
  private volatile Thread thread;

  /** How long a discovered endpoint is kept after discovery stopped finding it. */
  public static final Duration RETAIN = Duration.ofMinutes(10);

  private Targets(
      Set<Target> fixed, Discovery discovery, String component, String endpoint, Duration refresh) {
    this.fixed = fixed;
    this.discovery = discovery;
    this.component = component;
    this.endpoint = endpoint;
    this.refresh = refresh;
  }

  public static Targets fixed(Target target) {
    return new Targets(Set.of(target), null, null, null, null);
  }

  /**
   * Endpoints found by discovery, refreshed in the background.
   *
   * @param component only this component, or {@code null} for all
   * @param endpoint only this endpoint, or {@code null} for all
   */
  public static Targets discovered(
      Discovery discovery, String component, String endpoint, Duration refresh) {
    Targets t = new Targets(null, discovery, component, endpoint, refresh);
    t.thread = Thread.ofPlatform().daemon().name("discovery").start(t::run);
    return t;
  }

  /** Whether {@code t} (found elsewhere, e.g. in etcd) is one this instance aggregates. */
  public boolean accepts(Target t) {
    if (fixed != null) {
      return fixed.contains(t);
    }
    return (component == null || component.equals(t.component()))
        && (endpoint == null || endpoint.equals(t.endpoint()));
  }

  public Set<Target> current() {
    return fixed != null ? fixed : discovered;
  }

  private void run() {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        long now = System.nanoTime();
        for (Target t : discovery.discover()) {
          if (accepts(t)) {
            if (lastFound.put(t, now) == null) {
              Log.log(
                  LOG,
                  Level.INFO,
                  "discovered endpoint with load metrics: " + t,
                  Field.of("endpoint", t.toString()));
            }
          }
        }
        var it = lastFound.entrySet().iterator();
        while (it.hasNext()) {
          var e = it.next();
          if (now - e.getValue() > RETAIN.toNanos()) {
            Log.log(
                LOG,
                Level.INFO,
                "endpoint "
                    + e.getKey()
                    + " not discovered for "
                    + RETAIN.toMinutes()
                    + " min; no longer exported",
                Field.of("endpoint", e.getKey().toString()));
            it.remove();
          }
        }
        if (!lastFound.keySet().equals(discovered)) {
          discovered = Collections.unmodifiableSortedSet(new TreeSet<>(lastFound.keySet()));
        }
        Thread.sleep(refresh);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (thread != null) {
      thread.interrupt();
    }
  }
}
