package io.dynamometrics.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what discovery needs from {@code $SRV.INFO} and {@code $SRV.STATS} replies of every service
 * on the server: which services are Dynamo components (their description carries the raw names),
 * and which of their endpoints report ForwardPassMetrics.
 */
public final class DiscoveryDecoder {
  /** A Dynamo service: its NATS name and the raw names from its description. */
  public record ServiceInfo(String service, String namespace, String component) {}

  /** An endpoint of a service that reports ForwardPassMetrics. */
  public record MetricsEndpoint(String service, String endpoint) {}

  private static final Pattern DESCRIPTION =
      Pattern.compile("Dynamo component (.+) in namespace (.+)");

  private DiscoveryDecoder() {}

  /** The Dynamo identity of an info reply; {@code null} for other services and bad payloads. */
  public static ServiceInfo info(byte[] payload) {
    try {
      JsonNode root = Json.parse(payload);
      JsonNode name = root.get("name");
      JsonNode description = root.get("description");
      if (name == null || !name.isTextual() || description == null || !description.isTextual()) {
        return null;
      }
      Matcher m = DESCRIPTION.matcher(description.asText());
      return m.matches() ? new ServiceInfo(name.asText(), m.group(2), m.group(1)) : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Worker endpoints of a stats reply whose {@code data} is ForwardPassMetrics. */
  public static List<MetricsEndpoint> metricsEndpoints(byte[] payload) {
    List<MetricsEndpoint> out = new ArrayList<>();
    try {
      JsonNode endpoints = Json.parse(payload).get("endpoints");
      if (endpoints == null || !endpoints.isArray()) {
        return out;
      }
      for (JsonNode ep : endpoints) {
        JsonNode subject = ep.get("subject");
        if (subject == null || !subject.isTextual()) {
          continue;
        }
        String s = subject.asText();
        int dot = s.indexOf('.');
        int dash = s.lastIndexOf('-');
        if (dot <= 0 || dash <= dot + 1 || Subjects.workerId(s) == null) {
          continue;
        }
        try {
          MetricsDecoder.decode(ep.get("data"));
          out.add(new MetricsEndpoint(s.substring(0, dot), s.substring(dot + 1, dash)));
        } catch (IllegalArgumentException notMetrics) {
          // an endpoint without a stats handler (data null), such as "generate"
        }
      }
    } catch (IOException e) {
      // not a stats reply: nothing to discover in it
    }
    return out;
  }
}
