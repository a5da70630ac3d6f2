package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The one JSON reader for untrusted payloads: strict (duplicate keys and {@code NaN} rejected) and
 * bounded (nesting, number and string sizes), so hostile input costs little and decodes to nothing.
 *
 * <p>The readers stream over {@link #parser}; the tree ({@link #mapper}) is made on first use, for
 * the payloads they hand on to it (data that is not plainly valid, whose error it words): Jackson's
 * object mapper loads several MiB of classes that a service reading well-formed replies never needs
 * (docs/benchmarks.md, the footprint row).
 */
public final class Json {
  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(32)
                  .maxNumberLength(64)
                  .maxStringLength(64 * 1024)
                  .build())
          .build();

  private Json() {}

  /** A streaming parser over {@code bytes}, with the rules above. */
  public static JsonParser parser(byte[] bytes) throws IOException {
    return FACTORY.createParser(bytes);
  }

  /** The tree reader, with the rules above. */
  public static ObjectMapper mapper() {
    return Tree.MAPPER;
  }

  /** Holds the object mapper, so that it is made when first asked for, not with this class. */
  private static final class Tree {
    static final ObjectMapper MAPPER = JsonMapper.builder(FACTORY.copy()).build();
  }

  /** A short, printable excerpt of a payload for log lines. */
  public static String excerpt(byte[] bytes) {
    String s = new String(bytes, 0, Math.min(bytes.length, 120), StandardCharsets.UTF_8);
    return s.replaceAll("[\\p{Cntrl}]", "?") + (bytes.length > 120 ? "..." : "");
  }
}
