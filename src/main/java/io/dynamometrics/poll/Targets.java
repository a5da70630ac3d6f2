package io.dynamometrics.poll;

import io.dynamometrics.fleet.Target;
import java.time.Duration;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.logging.Logger;

/**
 * Which endpoints to poll: a fixed one (both {@code --component} and {@code --endpoint} given), or
 * what discovery finds, refreshed in the background so that polls never wait for it.
 */
public final class Targets implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Targets.class.getName());

  private final Set<Target> fixed;
  private final Discovery discovery;
  private final String component;
  private final String endpoint;
  private final Duration refresh;
  private volatile SortedSet<Target> discovered = new TreeSet<>();
  private Thread thread;

  private Targets(Set<Target> fixed, Discovery discovery, String component, String endpoint, Duration refresh) {
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
   * @param component only this component, or {@code null} for all
   * @param endpoint only this endpoint, or {@code null} for all
   */
  public static Targets discovered(Discovery discovery, String component, String endpoint, Duration refresh) {
    Targets t = new Targets(null, discovery, component, endpoint, refresh);
    t.thread = Thread.ofPlatform().daemon().name("discovery").start(t::run);
    return t;
  }

  /** Whether {@code t} (found elsewhere, e.g. in etcd) is one this instance aggregates. */
  public boolean accepts(Target t) {
    if (fixed != null) {
      return fixed.contains(t);
    }
    return (component == null || component.equals(t.component())) && (endpoint == null || endpoint.equals(t.endpoint()));
  }

  public Set<Target> current() {
    return fixed != null ? fixed : discovered;
  }

  private void run() {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        SortedSet<Target> found = new TreeSet<>();
        for (Target t : discovery.discover()) {
          if (accepts(t)) {
            found.add(t);
          }
        }
        if (!found.equals(discovered)) {
          LOG.info("discovered endpoints with load metrics: " + (found.isEmpty() ? "none" : found));
          discovered = found;
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
