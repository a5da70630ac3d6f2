package io.dynamometrics.poll;

import io.dynamometrics.fleet.Target;
import io.dynamometrics.transport.Gather;
import io.dynamometrics.transport.Transport;
import io.dynamometrics.wire.DiscoveryDecoder;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Finds every component endpoint of a namespace that reports ForwardPassMetrics, without
 * configuration: {@code $SRV.INFO} to everyone gives the raw names, {@code $SRV.STATS} to everyone
 * gives the endpoints that carry metrics.
 */
public final class Discovery {
  private static final byte[] EMPTY = new byte[0];

  private final Transport transport;
  private final String namespace;
  private final long timeoutNanos;

  public Discovery(Transport transport, String namespace, Duration timeout) {
    this.transport = transport;
    this.namespace = namespace;
    this.timeoutNanos = timeout.toNanos();
  }

  /** The endpoints found now; empty when nothing answers. Takes up to two timeouts. */
  public SortedSet<Target> discover() throws InterruptedException {
    Map<String, String> components = new HashMap<>(); // service name -> raw component name
    int services = 0;
    try (Gather gather = transport.gather(List.of("$SRV.INFO"), EMPTY)) {
      long deadline = System.nanoTime() + timeoutNanos;
      Gather.Reply reply;
      while ((reply = gather.next(deadline)) != null && !reply.noResponders()) {
        services++;
        DiscoveryDecoder.ServiceInfo info = DiscoveryDecoder.info(reply.data());
        if (info != null && info.namespace().equals(namespace)) {
          components.put(info.service(), info.component());
        }
      }
    }
    SortedSet<Target> found = new TreeSet<>();
    if (components.isEmpty()) {
      return found;
    }
    try (Gather gather = transport.gather(List.of("$SRV.STATS"), EMPTY)) {
      long deadline = System.nanoTime() + timeoutNanos;
      Gather.Reply reply;
      // Every service instance that answered INFO answers STATS too: stop once all have.
      for (int replies = 0;
          replies < services && (reply = gather.next(deadline)) != null;
          replies++) {
        for (DiscoveryDecoder.MetricsEndpoint e : DiscoveryDecoder.metricsEndpoints(reply.data())) {
          String component = components.get(e.service());
          if (component != null) {
            found.add(new Target(namespace, component, e.endpoint()));
          }
        }
      }
    }
    return found;
  }
}
