package io.dynamometrics.wire;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * NATS service names of a Dynamo component. G1 workers (Dynamo v0.1.1-v0.2.0) hash the name, G2 and
 * G3 workers use a plain slug; the aggregator asks under both so that it needs no configuration.
 */
public final class ServiceNames {
  private ServiceNames() {}

  /** G1: {@code slug("{ns}_{comp}") + "_" + last 8 hex digits of BLAKE3("{ns}_{comp}")}. */
  public static String g1(String namespace, String component) {
    String raw = namespace + "_" + component;
    String hash = Blake3.hex(raw.getBytes(StandardCharsets.UTF_8));
    return slug(raw, false) + "_" + hash.substring(hash.length() - 8);
  }

  /** G2 and G3: {@code slug("{ns}_{comp}")}, where the slug also keeps {@code -}. */
  public static String g2(String namespace, String component) {
    return slug(namespace + "_" + component, true);
  }

  /** Both names, plain first; one entry when they coincide (they never do today). */
  public static List<String> all(String namespace, String component) {
    String plain = g2(namespace, component);
    String hashed = g1(namespace, component);
    return plain.equals(hashed) ? List.of(plain) : List.of(plain, hashed);
  }

  static String slug(String raw, boolean keepDash) {
    String lower = raw.toLowerCase(Locale.ROOT);
    StringBuilder sb = new StringBuilder(lower.length());
    lower
        .codePoints()
        .forEach(
            cp -> {
              boolean ok =
                  (cp >= 'a' && cp <= 'z')
                      || (cp >= '0' && cp <= '9')
                      || cp == '_'
                      || (keepDash && cp == '-');
              sb.append(ok ? (char) cp : '_');
            });
    int start = 0;
    while (start < sb.length() && sb.charAt(start) == '_') {
      start++;
    }
    return sb.substring(start);
  }
}
