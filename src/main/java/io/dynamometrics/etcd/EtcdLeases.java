package io.dynamometrics.etcd;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Registers simulated workers the way Dynamo's do: one etcd lease each (10 s, kept alive every 5
 * s), whose id is the worker's id, and a registration key on it. For {@code mock-worker --etcd}.
 */
public final class EtcdLeases implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(EtcdLeases.class.getName());
  private static final long TTL_SECONDS = 10;

  private final EtcdClient etcd;
  private final Layout layout;
  private final boolean v1;
  private final String namespace;
  private final String component;
  private final String endpoint;
  private final Set<Long> leases = ConcurrentHashMap.newKeySet();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ScheduledExecutorService keepAlive =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("etcd-keepalive").factory());

  /**
   * @param v1 register as Dynamo 0.6.0 and later do ({@code v1/instances/{ns}/{c}/{e}/{lease hex}})
   *     instead of under {@code layout}
   */
  public EtcdLeases(
      EtcdClient etcd,
      Layout layout,
      boolean v1,
      String namespace,
      String component,
      String endpoint) {
    this.etcd = etcd;
    this.layout = layout;
    this.v1 = v1;
    this.namespace = namespace;
    this.component = component;
    this.endpoint = endpoint;
    // ends with the executor in close(); renewAll logs its own failures, so no future is needed
    var unused = keepAlive.scheduleAtFixedRate(this::renewAll, 5, 5, TimeUnit.SECONDS);
  }

  /** A new registered worker: its lease id. */
  public long acquire(String subjectFor) throws IOException {
    long lease = etcd.grantLease(TTL_SECONDS);
    String subject = subjectFor.replace("{lease}", Long.toHexString(lease));
    String idField = layout == Layout.COMPONENTS && !v1 ? "lease_id" : "instance_id";
    ObjectNode registration = JSON.createObjectNode();
    if (v1) {
      registration.put("type", "Endpoint");
    }
    registration
        .put("component", component)
        .put("endpoint", endpoint)
        .put("namespace", namespace)
        .put(idField, lease);
    registration.putObject("transport").put("nats_tcp", subject);
    String value = registration.toString();
    String key =
        v1
            ? "v1/instances/"
                + namespace
                + "/"
                + component
                + "/"
                + endpoint
                + "/"
                + Long.toHexString(lease)
            : layout.registration(namespace, component, endpoint, lease);
    etcd.put(key, value, lease);
    leases.add(lease);
    return lease;
  }

  /** Deregisters a worker (revoking its lease deletes its key). */
  public void release(long lease) {
    leases.remove(lease);
    try {
      etcd.revokeLease(lease);
    } catch (IOException e) {
      LOG.warning("could not revoke lease " + Long.toHexString(lease) + ": " + e.getMessage());
    }
  }

  private void renewAll() {
    for (long lease : leases) {
      try {
        etcd.keepAlive(lease);
      } catch (IOException | RuntimeException e) { // a throw would silently end the schedule
        LOG.warning("cannot renew lease " + Long.toHexString(lease) + ": " + e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    keepAlive.shutdownNow();
    leases.forEach(this::release);
  }
}
