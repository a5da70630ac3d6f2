package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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

  /**
   * Decodes one reply: read by {@link StatsReplyScanner} when it takes the reply and no endpoint of
   * the component's endpoint needs an error's words, else by the JSON parser ({@link #parse}). Both
   * give the same result for every reply the scanner takes.
   */
  public Result decode(byte[] payload) {
    List<StatsReplyScanner.Endpoint> scanned = StatsReplyScanner.scan(payload);
    if (scanned != null) {
      List<StatsEndpoint> good = new ArrayList<>(1);
      List<DecodeError> errors = new ArrayList<>(0);
      boolean complete = true;
      for (StatsReplyScanner.Endpoint e : scanned) {
        String invalid = e.hasData() ? null : MetricsDecoder.ABSENT;
        complete &= add(e.subject(), e.metrics(), invalid, good, errors);
      }
      if (complete) {
        return new Result(good, errors);
      }
    }
    return parse(payload);
  }

  /**
   * Decodes one reply with the JSON parser, streaming over it: only the {@code subject} and {@code
   * data} of each endpoint are read; counters, names and unknown fields are skipped.
   */
  Result parse(byte[] payload) {
    List<StatsEndpoint> good = new ArrayList<>(1);
    List<DecodeError> errors = new ArrayList<>(0);
    try (JsonParser p = Json.parser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        p.skipChildren(); // still has to be one well-formed (and bounded) JSON value
        if (p.nextToken() != null) {
          throw new IOException("trailing data");
        }
        return failure(DecodeError.NOT_STATS_REPLY, "not a JSON object: " + Json.excerpt(payload));
      }
      boolean sawEndpoints = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("endpoints") && value == JsonToken.START_ARRAY) {
          sawEndpoints = true;
          while (p.nextToken() != JsonToken.END_ARRAY) {
            endpoint(p, payload, good, errors);
          }
        } else {
          p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw new IOException("trailing data");
      }
      if (!sawEndpoints) {
        return failure(DecodeError.NOT_STATS_REPLY, "no endpoints array: " + Json.excerpt(payload));
      }
    } catch (
        IOException
            e) { // Jackson's parse errors; a RuntimeException here is our bug, not the peer's JSON
      return failure(DecodeError.INVALID_JSON, "unparseable stats reply: " + Json.excerpt(payload));
    }
    return new Result(good, errors);
  }

  /** Reads one element of {@code endpoints}; the parser is on its first token. */
  private void endpoint(
      JsonParser p, byte[] payload, List<StatsEndpoint> good, List<DecodeError> errors)
      throws IOException {
    Element e = element(p, payload);
    if (e != null) {
      add(e.subject(), e.metrics(), e.invalid(), good, errors);
    }
  }

  /**
   * One element of a reply's {@code endpoints}: its subject ({@code null} when it has none), its
   * metrics ({@code null} when its data is missing or invalid) and why they are not there.
   */
  record Element(String subject, ForwardPassMetrics metrics, String invalid) {}

  /**
   * Reads the element of {@code endpoints} that {@code p} is on, to its end: only its {@code
   * subject} and {@code data}; {@code null} when it is not an object.
   */
  static Element element(JsonParser p, byte[] payload) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      p.skipChildren();
      return null;
    }
    String subject = null;
    ForwardPassMetrics metrics = null;
    String invalid = MetricsDecoder.ABSENT;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      if (field.equals("subject") && value == JsonToken.VALUE_STRING) {
        subject = p.getText();
      } else if (field.equals("data")) {
        try {
          metrics = MetricsDecoder.stream(p, payload);
          invalid = null;
        } catch (IllegalArgumentException e) {
          metrics = null;
          invalid = e.getMessage();
        }
      } else {
        p.skipChildren();
      }
    }
    return new Element(subject, metrics, invalid);
  }

  /**
   * Files one endpoint of a reply under {@code good} or {@code errors}, or nowhere when it is not
   * one of the component's endpoint's workers.
   *
   * @param metrics its metrics, {@code null} when they are missing or invalid
   * @param invalid why they are, {@code null} when only the parser can tell
   * @return {@code false} when the endpoint needs the reason and {@code invalid} is {@code null}
   */
  private boolean add(
      String subject,
      ForwardPassMetrics metrics,
      String invalid,
      List<StatsEndpoint> good,
      List<DecodeError> errors) {
    if (subject == null) {
      return true;
    }
    Match match = match(subject);
    if (match == Match.NONE) {
      return true;
    }
    if (match == Match.STATIC) {
      errors.add(new DecodeError(DecodeError.NO_WORKER_ID, "static endpoint " + subject));
      return true;
    }
    Long workerId = Subjects.workerId(subject);
    if (workerId == null) {
      errors.add(new DecodeError(DecodeError.NO_WORKER_ID, "no lease id in " + subject));
      return true;
    }
    if (metrics != null) {
      good.add(new StatsEndpoint(subject, workerId, metrics));
    } else if (invalid != null) {
      errors.add(new DecodeError(DecodeError.NOT_METRICS, subject + ": " + invalid));
    } else {
      return false;
    }
    return true;
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
