package io.dynamometrics.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamometrics.fleet.RosterBuilder;
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
  record PodRef(String namespace, String name, String uid) {
    /** The same pod: by uid where both know it (a pod recreated under its name is another). */
    boolean sameAs(PodRef o) {
      if (uid != null && o.uid != null) {
        return uid.equals(o.uid);
      }
      return namespace.equals(o.namespace) && name.equals(o.name);
    }
  }

  /**
   * Reads a resource.
   *
   * @param ownerPod the uid of the Pod in its owner references, or {@code null}
   * @param data its {@code spec.data}, or {@code null}
   */
  static WorkerResource of(String namespace, String name, String ownerPod, JsonNode data) {
    return new WorkerResource(
        new PodRef(namespace, name, ownerPod),
        entries(data, "endpoints"),
        entries(data, "event_channels"),
        entries(data, "event_sources"),
        entries(data, "model_cards").stream().map(Map.Entry::getValue).toList());
  }

  private static List<Map.Entry<String, JsonNode>> entries(JsonNode data, String field) {
    JsonNode map = data == null ? null : data.get(field);
    if (map == null || !map.isObject()) {
      return List.of();
    }
    List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
    map.properties().forEach(e -> out.add(Map.entry(e.getKey(), e.getValue())));
    return List.copyOf(out);
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
