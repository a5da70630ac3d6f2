package io.dynamometrics.etcd;

import io.dynamometrics.fleet.Target;
import io.dynamometrics.poll.WorkerRegistry;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** The workers registered in etcd under both of Dynamo's layouts, by endpoint. */
public final class Registrations implements WorkerRegistry {
  private final EtcdClient etcd;
  private final String namespace;

  public Registrations(EtcdClient etcd, String namespace) {
    this.etcd = etcd;
    this.namespace = namespace;
  }

  @Override
  public Map<Target, Set<Long>> registered() throws IOException {
    Map<Target, Set<Long>> out = new HashMap<>();
    for (Layout layout : Layout.values()) {
      String prefix = layout.workers(namespace);
      for (String key : etcd.prefix(prefix).keySet()) {
        parse(key.substring(prefix.length()), out);
      }
    }
    return out;
  }

  /** {@code {comp}/{ep}:{lease hex}}; other keys (the singleton, static endpoints) are skipped. */
  private void parse(String rest, Map<Target, Set<Long>> out) {
    int slash = rest.indexOf('/');
    int colon = rest.lastIndexOf(':');
    if (slash <= 0 || colon <= slash + 1 || colon == rest.length() - 1) {
      return;
    }
    try {
      long lease = Long.parseUnsignedLong(rest.substring(colon + 1), 16);
      Target t = new Target(namespace, rest.substring(0, slash), rest.substring(slash + 1, colon));
      out.computeIfAbsent(t, k -> new HashSet<>()).add(lease);
    } catch (NumberFormatException notAWorker) {
      // not a lease id
    }
  }
}
