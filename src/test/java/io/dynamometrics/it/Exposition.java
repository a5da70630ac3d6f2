package io.dynamometrics.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The samples of a Prometheus text exposition (0.0.4), as any scraper reads them. */
record Exposition(List<Sample> samples) {
  private static final Pattern LINE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+\\S+)?$");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  record Sample(String name, Map<String, String> labels, double value) {}

  static Exposition parse(String body) {
    List<Sample> out = new ArrayList<>();
    for (String line : body.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        throw new AssertionError("not an exposition line: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      out.add(
          new Sample(
              m.group(1),
              labels,
              Double.parseDouble(
                  m.group(3).replace("+Inf", "Infinity").replace("-Inf", "-Infinity"))));
    }
    return new Exposition(out);
  }

  List<Sample> named(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The one sample of {@code name} whose labels include all of {@code labels}. */
  Optional<Sample> find(String name, Map<String, String> labels) {
    List<Sample> hits =
        named(name).stream()
            .filter(s -> s.labels().entrySet().containsAll(labels.entrySet()))
            .toList();
    if (hits.size() > 1) {
      throw new AssertionError(
          hits.size() + " samples of " + name + " match " + labels + ": " + hits);
    }
    return hits.stream().findFirst();
  }

  /**
   * The value of that sample, or NaN when there is none (so that a missing series never equals a
   * number).
   */
  double value(String name, Map<String, String> labels) {
    return find(name, labels).map(Sample::value).orElse(Double.NaN);
  }
}
