package io.dynamometrics.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds one namespace's {@link Roster} from the records a discovery backend holds, whichever it is
 * (dynamo-events.md, sections 3 and 3b): worker endpoints, event channels, event sources and model
 * cards. Every record comes with its <em>owner</em>, which ties a worker's records together: the
 * lease in etcd, the worker's own resource on Kubernetes. A channel or card belongs to the worker
 * whose endpoint has the same owner. Records of other namespaces are skipped. One use.
 */
public final class RosterBuilder {
  /** The component a KV router registers as: never a worker. */
  static final String ROUTER = "kv-router";

  private final String namespace;
  private final Map<Long, Set<Target>> endpoints = new HashMap<>();
  private final Map<Object, Long> ownerToWorker = new HashMap<>();
  private final Set<Long> answersStats = new HashSet<>();
  private final List<Object[]> channels = new ArrayList<>(); // {rest, value, owner}
  private final List<Object[]> cards = new ArrayList<>(); // {value, owner}
  private final Map<Long, Long> sources = new HashMap<>();

  public RosterBuilder(String namespace) {
    this.namespace = namespace;
  }

  public String namespace() {
    return namespace;
  }

  /**
   * A worker endpoint.
   *
   * @param answersStats registered in a layout of the releases that answer {@code $SRV.STATS}
   */
  public void endpoint(Target t, Long workerId, Object owner, boolean answersStats) {
    if (workerId == null || t.component().equals(ROUTER) || !t.namespace().equals(namespace)) {
      return;
    }
    endpoints.computeIfAbsent(workerId, k -> new HashSet<>()).add(t);
    ownerToWorker.put(owner, workerId);
    if (answersStats) {
      this.answersStats.add(workerId);
    }
  }

  /**
   * A worker endpoint of the {@code v1} layout: {@code {ns}/{c}/{e}/{id hex}} (the etcd key after
   * {@code v1/instances/}, or the key of a worker resource's {@code endpoints} map).
   */
  public void endpoint(String key, Object owner) {
    String[] p = key.split("/", -1);
    if (p.length == 4) {
      endpoint(new Target(p[0], p[1], p[2]), hex(p[3]), owner, false);
    }
  }

  /**
   * An event channel record: {@code key} is its etcd key after {@code v1/event_channels/} (or the
   * key of a worker resource's {@code event_channels} map), {@code {ns}/{c}/{topic}/{hex}} up to
   * 1.3 or {@code namespace/{ns}/component/{c}/endpoint/{e}/topic/{topic}/{hex}} from 1.4.
   */
  public void channel(String key, JsonNode value, Object owner) {
    channels.add(new Object[] {key, value, owner});
  }

  /**
   * An event source record (1.3 on, on Kubernetes): links publisher {@code key}'s hex suffix to the
   * worker it names, when that worker is one the owner registered.
   */
  public void source(String key, JsonNode value, Object owner) {
    Long publisher = hex(key.substring(key.lastIndexOf('/') + 1));
    JsonNode w = value == null ? null : value.path("metadata").path("worker").path("worker_id");
    if (publisher == null || w == null) {
      return;
    }
    // ids above 2^63 reach us as rounded floats: only an exact integer is taken
    if (w.isIntegralNumber() && w.canConvertToLong()) {
      sources.put(publisher, w.asLong());
    }
    channels.add(new Object[] {key, null, owner}); // and the owner's worker, failing that
  }

  /** A model card; its capacity is the first stated for its owner's worker. */
  public void card(JsonNode value, Object owner) {
    cards.add(new Object[] {value, owner});
  }

  public Roster build() {
    Map<Long, Long> publishers = new HashMap<>();
    List<Roster.Channel> zmq = new ArrayList<>();
    for (Object[] c : channels) {
      String key = (String) c[0];
      String[] p = key.split("/", -1);
      boolean v14 = p.length == 9 && p[0].equals("namespace");
      String ns = v14 ? p[1] : p[0];
      Long publisher = hex(p[p.length - 1]);
      Long worker = ownerToWorker.get(c[2]);
      Long named = publisher == null ? null : sources.get(publisher);
      if (named != null && endpoints.containsKey(named)) {
        worker = named;
      }
      if (!ns.equals(namespace) || publisher == null || worker == null) {
        continue;
      }
      publishers.put(publisher, worker);
      JsonNode value = (JsonNode) c[1];
      if (value != null) {
        Target scope =
            v14 && p[2].equals("component") && p[4].equals("endpoint")
                ? new Target(namespace, p[3], p[5])
                : null;
        Roster.Channel z = zmqChannel(value, p, publisher, worker, scope);
        if (z != null) {
          zmq.add(z);
        }
      }
    }
    Map<Long, Roster.Capacity> capacity = new HashMap<>();
    for (Object[] c : cards) {
      Long worker = ownerToWorker.get(c[1]);
      if (worker != null && !capacity.containsKey(worker)) {
        Roster.Capacity cap = capacity((JsonNode) c[0]);
        if (cap != null) {
          capacity.put(worker, cap);
        }
      }
    }
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
   * The ZMQ channel a record advertises ({@code "transport":{"kind":"Zmq","config":{"endpoint":
   * "tcp://host:port"}}}), or {@code null} for a NATS channel or one that names no address.
   */
  private static Roster.Channel zmqChannel(
      JsonNode v, String[] key, long publisher, long worker, Target scope) {
    JsonNode transport = v.path("transport");
    String address = transport.path("config").path("endpoint").asText("");
    if (!transport.path("kind").asText("").equals("Zmq") || !address.startsWith("tcp://")) {
      return null;
    }
    String topic = v.path("topic").asText(key.length >= 2 ? key[key.length - 2] : "");
    return new Roster.Channel(address, topic, publisher, worker, scope);
  }

  /**
   * {@code runtime_config} of a card ({@code card_json.runtime_config} from 0.6.0, at the top
   * before), or {@code null} when it states neither figure.
   */
  public static Roster.Capacity capacity(JsonNode root) {
    if (root == null) {
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

  /** An instance, lease or publisher id in hex (up to 16 digits), or {@code null}. */
  public static Long hex(String s) {
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
