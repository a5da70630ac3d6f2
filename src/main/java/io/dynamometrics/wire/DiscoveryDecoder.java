package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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
    String name = null;
    String description = null;
    try (JsonParser p = Json.parser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("name") && value == JsonToken.VALUE_STRING) {
          name = p.getText();
        } else if (field.equals("description") && value == JsonToken.VALUE_STRING) {
          description = p.getText();
        } else {
          p.skipChildren();
        }
      }
    } catch (IOException e) {
      return null;
    }
    if (name == null || description == null) {
      return null;
    }
    Matcher m = DESCRIPTION.matcher(description);
    return m.matches() ? new ServiceInfo(name, m.group(2), m.group(1)) : null;
  }

  /**
   * Worker endpoints of a stats reply whose {@code data} is ForwardPassMetrics; none when the reply
   * is not one well-formed JSON object.
   */
  public static List<MetricsEndpoint> metricsEndpoints(byte[] payload) {
    List<MetricsEndpoint> out = new ArrayList<>();
    try (JsonParser p = Json.parser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return out;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("endpoints") && value == JsonToken.START_ARRAY) {
          while (p.nextToken() != JsonToken.END_ARRAY) {
            MetricsEndpoint e = endpoint(p, payload);
            if (e != null) {
              out.add(e);
            }
          }
        } else {
          p.skipChildren();
        }
      }
    } catch (IOException e) {
      return new ArrayList<>(); // not a stats reply: nothing to discover in it
    }
    return out;
  }

  /**
   * The endpoint of the element of {@code endpoints} that {@code p} is on (read to its end) when it
   * is a worker's and its data is ForwardPassMetrics, else {@code null}; an endpoint without a
   * stats handler (data null, such as "generate") is not.
   */
  private static MetricsEndpoint endpoint(JsonParser p, byte[] payload) throws IOException {
    StatsReplyDecoder.Element e = StatsReplyDecoder.element(p, payload);
    if (e == null || e.subject() == null || e.metrics() == null) {
      return null;
    }
    String subject = e.subject();
    int dot = subject.indexOf('.');
    int dash = subject.lastIndexOf('-');
    if (dot <= 0 || dash <= dot + 1 || Subjects.workerId(subject) == null) {
      return null;
    }
    return new MetricsEndpoint(subject.substring(0, dot), subject.substring(dot + 1, dash));
  }
}
