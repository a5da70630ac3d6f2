package io.dynamometrics.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.RosterBuilder;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.poll.WorkerRegistry;
import io.dynamometrics.wire.Json;
import java.io.IOException;
import java.util.List;

/**
 * Reads one namespace's roster from etcd, in every layout Dynamo has used (dynamo-events.md,
 * section 3): worker endpoints under {@code {ns}/components/}, {@code instances/} and {@code
 * v1/instances/}; event channels in both of their layouts; model cards under {@code v1/mdc/} and
 * {@code models/}. A channel or card belongs to the worker whose instance key sits on the same
 * lease.
 */
public final class EtcdRoster implements WorkerRegistry {
  private static final String INSTANCES = "v1/instances/";
  private static final String CHANNELS = "v1/event_channels/";

  /** Where keys are read from: etcd, or a dump of it in tests. */
  @FunctionalInterface
  public interface Keys {
    /** Every key starting with {@code prefix}, with its value and lease. */
    List<EtcdClient.KeyValue> scan(String prefix) throws IOException;
  }

  private final Keys etcd;
  private final String namespace;

  public EtcdRoster(EtcdClient etcd, String namespace) {
    this(etcd::scan, namespace);
  }

  public EtcdRoster(Keys keys, String namespace) {
    this.etcd = keys;
    this.namespace = namespace;
  }

  @Override
  public Roster roster() throws IOException {
    RosterBuilder b = new RosterBuilder(namespace);
    for (Layout layout : Layout.values()) {
      String prefix = layout.workers(namespace);
      for (EtcdClient.KeyValue kv : etcd.scan(prefix)) {
        legacy(b, kv, kv.key().substring(prefix.length()));
      }
    }
    for (EtcdClient.KeyValue kv : etcd.scan(INSTANCES + namespace + "/")) {
      b.endpoint(kv.key().substring(INSTANCES.length()), owner(kv, kv.key()));
    }
    for (String prefix :
        List.of(CHANNELS + namespace + "/", CHANNELS + "namespace/" + namespace + "/component/")) {
      for (EtcdClient.KeyValue kv : etcd.scan(prefix)) {
        JsonNode value = json(kv.value());
        if (value != null) {
          b.channel(kv.key().substring(CHANNELS.length()), value, kv.lease());
        }
      }
    }
    for (String prefix : List.of("v1/mdc/" + namespace + "/", "models/")) {
      for (EtcdClient.KeyValue kv : etcd.scan(prefix)) {
        b.card(json(kv.value()), kv.lease());
      }
    }
    return b.build();
  }

  /** A key's lease, or for a key without one the id its key ends in. */
  private static Object owner(EtcdClient.KeyValue kv, String key) {
    if (kv.lease() != 0) {
      return kv.lease();
    }
    Long id =
        RosterBuilder.hex(key.substring(Math.max(key.lastIndexOf('/'), key.lastIndexOf(':')) + 1));
    return id == null ? key : id;
  }

  private static JsonNode json(String value) {
    try {
      return Json.mapper().readTree(value);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** {@code {comp}/{ep}:{lease hex}}; other keys (the singleton, static endpoints) are skipped. */
  private void legacy(RosterBuilder b, EtcdClient.KeyValue kv, String rest) {
    int slash = rest.indexOf('/');
    int colon = rest.lastIndexOf(':');
    if (slash <= 0 || colon <= slash + 1 || colon == rest.length() - 1) {
      return;
    }
    Long id = RosterBuilder.hex(rest.substring(colon + 1));
    Target t = new Target(namespace, rest.substring(0, slash), rest.substring(slash + 1, colon));
    b.endpoint(t, id, owner(kv, rest), true);
  }
}
