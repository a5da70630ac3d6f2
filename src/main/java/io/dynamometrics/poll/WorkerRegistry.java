package io.dynamometrics.poll;

import io.dynamometrics.fleet.Target;
import java.io.IOException;
import java.util.Map;
import java.util.Set;

/** Where workers register (etcd): who should answer each endpoint's polls. */
public interface WorkerRegistry {
  /** The lease ids registered under every endpoint, now. */
  Map<Target, Set<Long>> registered() throws IOException;
}
