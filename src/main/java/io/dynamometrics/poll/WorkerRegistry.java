package io.dynamometrics.poll;

import io.dynamometrics.fleet.Roster;
import java.io.IOException;

/**
 * Where workers register (etcd, or the Kubernetes API): who is alive, where each serves, what it
 * states.
 */
public interface WorkerRegistry {
  /** The namespace's roster, now. */
  Roster roster() throws IOException;

  /** Where registrations are read from, for the log. */
  default String source() {
    return "etcd";
  }

  /** Why discovery is incomplete now (for {@code /readyz}), or {@code null}. */
  default String problem() {
    return null;
  }

  /** No roster now, for a reason the registry has logged itself. */
  final class Unavailable extends IOException {
    private static final long serialVersionUID = 1L;

    public Unavailable(String message) {
      super(message);
    }
  }
}
