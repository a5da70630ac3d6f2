package io.dynamometrics.poll;

import io.dynamometrics.fleet.Roster;
import java.io.IOException;

/** Where workers register (etcd): who is alive, where each serves, what it states. */
public interface WorkerRegistry {
  /** The namespace's roster, now. */
  Roster roster() throws IOException;
}
