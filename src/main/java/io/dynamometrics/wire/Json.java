package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The one JSON reader for untrusted payloads: strict (duplicate keys and {@code NaN} rejected) and
 * bounded (nesting, number and string sizes), so hostile input costs little and decodes to nothing.
 */
public final class Json {
  public static final ObjectMapper MAPPER = mapper();

  private Json() {}

  private static ObjectMapper mapper() {
    JsonMapper mapper =
        JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();
    mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(32)
                .maxNumberLength(64)
                .maxStringLength(64 * 1024)
                .build());
    return mapper;
  }

  /** Parses {@code bytes}; throws {@link IOException} for anything that is not one JSON value. */
  public static JsonNode parse(byte[] bytes) throws IOException {
    JsonNode node = MAPPER.readTree(bytes);
    if (node == null || node.isMissingNode()) {
      throw new IOException("empty payload");
    }
    return node;
  }

  /** A short, printable excerpt of a payload for log lines. */
  public static String excerpt(byte[] bytes) {
    String s = new String(bytes, 0, Math.min(bytes.length, 120), StandardCharsets.UTF_8);
    return s.replaceAll("[\\p{Cntrl}]", "?") + (bytes.length > 120 ? "..." : "");
  }
}
