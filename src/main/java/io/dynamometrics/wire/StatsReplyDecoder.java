package io.dynamometrics.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes one {@code $SRV.STATS} reply into the endpoints that match a component's endpoint. Each
 * endpoint is decoded on its own: a bad one becomes a {@link DecodeError} and never shifts another
 * endpoint's values (the reference pairs them by position and does).
 */
public final class StatsReplyDecoder {
  /** The result of one reply: good endpoints and the reasons others were rejected. */
  public record Result(List<StatsEndpoint> endpoints, List<DecodeError> errors) {}

  private final List<String> prefixes;

  /**
   * @param services the candidate service names (G1 and G2) of the component
   * @param endpoint the Dynamo endpoint name, matched exactly: {@code ep} never matches {@code ep2}
   */
  public StatsReplyDecoder(List<String> services, String endpoint) {
    this.prefixes = services.stream().map(s -> s + "." + endpoint).toList();
  }

  public Result decode(byte[] payload) {
    JsonNode root;
    try {
      root = Json.parse(payload);
    } catch (IOException | RuntimeException e) {
      return failure(DecodeError.INVALID_JSON, "unparseable stats reply: " + Json.excerpt(payload));
    }
    JsonNode endpoints = root.get("endpoints");
    if (!root.isObject() || endpoints == null || !endpoints.isArray()) {
      return failure(DecodeError.NOT_STATS_REPLY, "no endpoints array: " + Json.excerpt(payload));
    }
    List<StatsEndpoint> good = new ArrayList<>(1);
    List<DecodeError> errors = new ArrayList<>(0);
    for (JsonNode ep : endpoints) {
      JsonNode subjectNode = ep.get("subject");
      if (subjectNode == null || !subjectNode.isTextual()) {
        continue;
      }
      String subject = subjectNode.asText();
      Match match = match(subject);
      if (match == Match.NONE) {
        continue;
      }
      if (match == Match.STATIC) {
        errors.add(new DecodeError(DecodeError.NO_WORKER_ID, "static endpoint " + subject));
        continue;
      }
      Long workerId = Subjects.workerId(subject);
      if (workerId == null) {
        errors.add(new DecodeError(DecodeError.NO_WORKER_ID, "no lease id in " + subject));
        continue;
      }
      try {
        good.add(new StatsEndpoint(subject, workerId, MetricsDecoder.decode(ep.get("data"))));
      } catch (IllegalArgumentException e) {
        errors.add(new DecodeError(DecodeError.NOT_METRICS, subject + ": " + e.getMessage()));
      }
    }
    return new Result(good, errors);
  }

  private enum Match {
    NONE,
    STATIC,
    WORKER
  }

  private Match match(String subject) {
    for (String prefix : prefixes) {
      if (subject.startsWith(prefix)) {
        if (subject.length() == prefix.length()) {
          return Match.STATIC;
        }
        if (subject.charAt(prefix.length()) == '-') {
          return Match.WORKER;
        }
      }
    }
    return Match.NONE;
  }

  private static Result failure(String reason, String detail) {
    return new Result(List.of(), List.of(new DecodeError(reason, detail)));
  }
}
