package io.dynamometrics.fleet;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** Where the poll loop leaves each new snapshot and every reader takes the latest one. */
public final class LatestSnapshot implements Consumer<FleetSnapshot>, Supplier<FleetSnapshot> {
  private final AtomicReference<FleetSnapshot> ref = new AtomicReference<>(FleetSnapshot.EMPTY);

  @Override
  public void accept(FleetSnapshot snapshot) {
    ref.set(snapshot);
  }

  @Override
  public FleetSnapshot get() {
    return ref.get();
  }
}
