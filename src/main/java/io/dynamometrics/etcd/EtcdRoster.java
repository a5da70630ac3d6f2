package io.dynamometrics.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.poll.WorkerRegistry;
import io.dynamometrics.wire.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads one namespace's roster from etcd, in every layout Dynamo has used (dynamo-events.md,
 * section 3): worker endpoints under {@code {ns}/components/}, {@code instances/} and {@code
 * v1/instances/}; event channels in both of their layouts; model cards under {@code v1/mdc/} and
 * {@code models/}. A channel or card belongs to the worker whose instance key sits on the same
 * lease.
 */
public final class EtcdRoster implements WorkerRegistry {
  /** The component a KV router registers as: never a worker. */
  static final String ROUTER = "kv-router";

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
    Map<Long, Set<Target>> endpoints = new HashMap<>();
    Map<Long, Long> leaseToWorker = new HashMap<>();
    Set<Long> answersStats = new HashSet<>();
    for (Layout layout : Layout.values()) {
      String prefix = layout.workers(namespace);
      for (EtcdClient.KeyValue kv : etcd.scan(prefix)) {
        legacy(kv, kv.key().substring(prefix.length()), endpoints, leaseToWorker, answersStats);
      }
    }
    String v1 = "v1/instances/" + namespace + "/";
    for (EtcdClient.KeyValue kv : etcd.scan(v1)) {
      String[] p = kv.key().substring(v1.length()).split("/", -1);
      if (p.length == 3) {
        add(new Target(namespace, p[0], p[1]), hex(p[2]), kv.lease(), endpoints, leaseToWorker);
      }
    }
    Map<Long, Long> publishers = new HashMap<>();
    List<Roster.Channel> zmq = new ArrayList<>();
    for (String prefix :
        List.of(
            "v1/event_channels/" + namespace + "/",
            "v1/event_channels/namespace/" + namespace + "/component/")) {
      for (EtcdClient.KeyValue kv : etcd.scan(prefix)) {
        Long publisher = hex(kv.key().substring(kv.key().lastIndexOf('/') + 1));
        Long worker = leaseToWorker.get(kv.lease());
        if (publisher != null && worker != null) {
          publishers.put(publisher, worker);
          Roster.Channel c = zmqChannel(kv, publisher, worker);
          if (c != null) {
            zmq.add(c);
          }
        }
      }
    }
    Map<Long, Roster.Capacity> capacity = new HashMap<>();
    cards("v1/mdc/" + namespace + "/", leaseToWorker, capacity);
    cards("models/", leaseToWorker, capacity);
    Map<Long, Roster.Member> workers = new HashMap<>();
    Set<Target> polled = new TreeSet<>();
    endpoints.forEach(
        (id, ts) -> {
          List<Target> ordered = new ArrayList<>(ts);
          ordered.sort(Roster.SHOWN_UNDER);
          workers.put(id, new Roster.Member(id, List.copyOf(ordered), capacity.get(id)));
          if (answersStats.contains(id)) {
            polled.add(ordered.get(0)); // its stats endpoint, not every endpoint it serves
          }
        });
    return new Roster(
        Map.copyOf(workers), Map.copyOf(publishers), Set.copyOf(polled), List.copyOf(zmq));
  }

  /**
   * The ZMQ channel a {@code v1/event_channels/} record advertises ({@code "transport":{"kind":
   * "Zmq","config":{"endpoint":"tcp://host:port"}}}), or {@code null} for a NATS channel or a
   * record that names no address.
   */
  private Roster.Channel zmqChannel(EtcdClient.KeyValue kv, long publisher, long worker) {
    JsonNode v;
    try {
      v = Json.mapper().readTree(kv.value());
    } catch (IOException | RuntimeException e) {
      return null;
    }
    JsonNode transport = v.path("transport");
    String address = transport.path("config").path("endpoint").asText("");
    if (!transport.path("kind").asText("").equals("Zmq") || !address.startsWith("tcp://")) {
      return null;
    }
    // 1.4 on: .../namespace/{ns}/component/{c}/endpoint/{e}/topic/{topic}/{hex}
    String[] p = kv.key().split("/", -1);
    Target scope =
        p.length == 11 && p[4].equals("component") && p[6].equals("endpoint")
            ? new Target(namespace, p[5], p[7])
            : null;
    String topic = v.path("topic").asText(p.length >= 2 ? p[p.length - 2] : "");
    return new Roster.Channel(address, topic, publisher, worker, scope);
  }

  /** {@code {comp}/{ep}:{lease hex}}; other keys (the singleton, static endpoints) are skipped. */
  private void legacy(
      EtcdClient.KeyValue kv,
      String rest,
      Map<Long, Set<Target>> endpoints,
      Map<Long, Long> leaseToWorker,
      Set<Long> answersStats) {
    int slash = rest.indexOf('/');
    int colon = rest.lastIndexOf(':');
    if (slash <= 0 || colon <= slash + 1 || colon == rest.length() - 1) {
      return;
    }
    Long id = hex(rest.substring(colon + 1));
    Target t = new Target(namespace, rest.substring(0, slash), rest.substring(slash + 1, colon));
    if (add(t, id, kv.lease(), endpoints, leaseToWorker)) {
      answersStats.add(id);
    }
  }

  private static boolean add(
      Target t,
      Long id,
      long lease,
      Map<Long, Set<Target>> endpoints,
      Map<Long, Long> leaseToWorker) {
    if (id == null || t.component().equals(ROUTER)) {
      return false;
    }
    endpoints.computeIfAbsent(id, k -> new HashSet<>()).add(t);
    leaseToWorker.put(lease != 0 ? lease : id, id);
    return true;
  }

  /** Capacity from every model card under {@code prefix} that sits on a worker's lease. */
  private void cards(String prefix, Map<Long, Long> leaseToWorker, Map<Long, Roster.Capacity> out)
      throws IOException {
    for (EtcdClient.KeyValue kv : etcd.scan(prefix)) {
      Long worker = leaseToWorker.get(kv.lease());
      if (worker == null || out.containsKey(worker)) {
        continue;
      }
      Roster.Capacity c = capacity(kv.value());
      if (c != null) {
        out.put(worker, c);
      }
    }
  }

  /**
   * {@code runtime_config} of a card ({@code card_json.runtime_config} from 0.6.0, at the top
   * before), or {@code null} when it states neither figure.
   */
  static Roster.Capacity capacity(String card) {
    JsonNode root;
    try {
      root = Json.mapper().readTree(card);
    } catch (IOException | RuntimeException e) {
      return null;
    }
    JsonNode rc = root.path("card_json").path("runtime_config");
    if (!rc.isObject()) {
      rc = root.path("runtime_config");
    }
    long blocks = positive(rc.path("total_kv_blocks"));
    long seqs = positive(rc.path("max_num_seqs"));
    return blocks < 0 && seqs < 0 ? null : new Roster.Capacity(blocks, seqs);
  }

  private static long positive(JsonNode n) {
    return n.canConvertToLong() && n.isIntegralNumber() && n.asLong() >= 0 ? n.asLong() : -1;
  }

  /** A lease or publisher id in hex (up to 16 digits), or {@code null}. */
  static Long hex(String s) {
    if (s.isEmpty() || s.length() > 16) {
      return null;
    }
    try {
      return Long.parseUnsignedLong(s, 16);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
