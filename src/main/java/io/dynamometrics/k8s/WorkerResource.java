package io.dynamometrics.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynamometrics.fleet.Roster;
import io.dynamometrics.fleet.RosterBuilder;
import io.dynamometrics.wire.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One {@code DynamoWorkerMetadata} resource (dynamo-events.md, section 3b), reduced to what the
 * roster needs: the pod it describes and the records of its {@code spec.data}, whose maps are keyed
 * like the etcd keys ({@code endpoints}, {@code model_cards}, {@code event_channels}, {@code
 * event_sources}; any of them may be {@code null} or absent). Immutable.
 *
 * @param pod the Pod that owns it (its owner reference), else the pod it is named after
 */
record WorkerResource(
    PodRef pod,
    List<Map.Entry<String, JsonNode>> endpoints,
    List<Map.Entry<String, JsonNode>> channels,
    List<Map.Entry<String, JsonNode>> sources,
    List<JsonNode> cards) {

  /** A pod: namespace and name, and its uid where known. */
  record PodRef(String namespace, String name, String uid) {}

  /**
   * Reads a resource.
   *
   * @param ownerPod the uid of the Pod in its owner references, or {@code null}
   * @param data its {@code spec.data}, or {@code null}
   */
  static WorkerResource of(String namespace, String name, String ownerPod, JsonNode data) {
    return new WorkerResource(
        new PodRef(namespace, name, ownerPod),
        entries(data, "endpoints", v -> null),
        entries(data, "event_channels", v -> keep(v, "topic", "transport")),
        entries(data, "event_sources", v -> keep(v, "metadata")),
        entries(data, "model_cards", WorkerResource::capacityOnly).stream()
            .map(Map.Entry::getValue)
            .toList());
  }

  /**
   * The entries of map {@code field}, each value cut down by {@code slim} to what the roster reads
   * (a model card is kilobytes; its capacity two numbers): a thousand workers stay cheap to hold.
   */
  private static List<Map.Entry<String, JsonNode>> entries(
      JsonNode data, String field, java.util.function.UnaryOperator<JsonNode> slim) {
    JsonNode map = data == null ? null : data.get(field);
    if (map == null || !map.isObject()) {
      return List.of();
    }
    List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
    map.properties()
        .forEach(
            e -> {
              JsonNode v = slim.apply(e.getValue());
              out.add(new java.util.AbstractMap.SimpleImmutableEntry<>(e.getKey(), v));
            });
    return java.util.Collections.unmodifiableList(out);
  }

  private static JsonNode keep(JsonNode v, String... fields) {
    if (v == null || !v.isObject()) {
      return v;
    }
    ObjectNode out = Json.mapper().createObjectNode();
    for (String f : fields) {
      if (v.has(f)) {
        out.set(f, v.get(f));
      }
    }
    return out;
  }

  private static JsonNode capacityOnly(JsonNode card) {
    Roster.Capacity c = RosterBuilder.capacity(card);
    if (c == null) {
      return null;
    }
    ObjectNode rc = Json.mapper().createObjectNode();
    if (c.totalKvBlocks() >= 0) {
      rc.put("total_kv_blocks", c.totalKvBlocks());
    }
    if (c.maxNumSeqs() >= 0) {
      rc.put("max_num_seqs", c.maxNumSeqs());
    }
    ObjectNode out = Json.mapper().createObjectNode();
    out.set("runtime_config", rc);
    return out;
  }

  /** Whether the worker still serves: after a clean exit its endpoints are {@code null}. */
  boolean serves() {
    return !endpoints.isEmpty();
  }

  /** Gives its records to {@code b}, tied together by its pod. */
  void feed(RosterBuilder b) {
    Object owner = pod;
    for (Map.Entry<String, JsonNode> e : endpoints) {
      b.endpoint(e.getKey(), owner);
    }
    for (Map.Entry<String, JsonNode> e : channels) {
      b.channel(e.getKey(), e.getValue(), owner);
    }
    for (Map.Entry<String, JsonNode> e : sources) {
      b.source(e.getKey(), e.getValue(), owner);
    }
    for (JsonNode card : cards) {
      b.card(card, owner);
    }
  }
}
