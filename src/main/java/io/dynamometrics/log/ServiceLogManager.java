package io.dynamometrics.log;

import java.util.logging.LogManager;

/**
 * The JDK's log manager, except that the JVM's shutdown does not close the handlers. The JDK closes
 * every handler from a shutdown hook of its own, which runs at the same time as the service's: what
 * the service logs while it stops (a Lease given up, a lease that could not be revoked, a push
 * group left behind) would be dropped. Each record is flushed as it is written, so nothing waits
 * for a close. Main names it in {@code java.util.logging.manager} before anything logs.
 */
public final class ServiceLogManager extends LogManager {
  // the JDK's shutdown hook, a private class: its reset is the one skipped
  private static final String CLEANER = LogManager.class.getName() + "$Cleaner";

  @Override
  public void reset() {
    if (!Thread.currentThread().getClass().getName().equals(CLEANER)) {
      super.reset();
    }
  }
}
