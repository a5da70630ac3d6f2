package io.dynamometrics.sim;

import java.io.IOException;

/** Where simulated workers get their lease ids: random, or real etcd leases with registrations. */
public interface LeaseSource {
  long acquire() throws IOException;

  void release(long lease);
}
