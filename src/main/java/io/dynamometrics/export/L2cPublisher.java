package io.dynamometrics.export;

import io.dynamometrics.fleet.Aggregates;
import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.transport.Transport;
import io.dynamometrics.wire.L2cEncoder;
import io.dynamometrics.wire.StatsEndpoint;
import io.dynamometrics.wire.Subjects;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Publishes each endpoint's aggregate on {@code namespace.{ns}.l2c.{comp}.{ep}} once per poll, for
 * KV routers, while this instance leads. Only the routers of Dynamo 0.1.x read it, whose workers
 * answer stats; workers of later releases, which send fewer fields, are left out.
 */
public final class L2cPublisher implements Consumer<FleetSnapshot> {
  private final Transport transport;
  private final BooleanSupplier leader;

  public L2cPublisher(Transport transport, BooleanSupplier leader) {
    this.transport = transport;
    this.leader = leader;
  }

  @Override
  public void accept(FleetSnapshot snapshot) {
    if (!leader.getAsBoolean()) {
      return;
    }
    for (EndpointFleet e : snapshot.endpoints()) {
      Target t = e.target();
      List<StatsEndpoint> endpoints =
          e.workers().stream()
              // routers that read l2c read whole reports of workers that answer stats
              .filter(w -> w.metrics().complete() && !w.subject().isEmpty())
              .map(w -> new StatsEndpoint(w.subject(), w.key().workerId(), w.metrics()))
              .toList();
      Aggregates a = e.aggregates();
      byte[] event =
          L2cEncoder.encode(
              endpoints, a == null ? null : a.loadAvg(), a == null ? null : a.loadStd());
      transport.publish(Subjects.l2c(t.namespace(), t.component(), t.endpoint()), event);
    }
  }
}
