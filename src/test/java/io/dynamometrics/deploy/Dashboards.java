package io.dynamometrics.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The Grafana dashboards of deploy/, and the PromQL they run. */
final class Dashboards {
  static final Path DIR = Path.of("deploy/grafana/dashboards");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One query of one panel. */
  record Query(String dashboard, int panelId, String panel, String expr) {
    /** The query with the dashboard variables of the demo fleet substituted. */
    String substituted() {
      return expr.replace("$component", "VllmWorker").replace("$endpoint", "load_metrics");
    }
  }

  private static final Set<String> PROMQL_WORDS =
      Set.of(
          "sum",
          "avg",
          "min",
          "max",
          "count",
          "rate",
          "irate",
          "increase",
          "delta",
          "deriv",
          "histogram_quantile",
          "by",
          "without",
          "on",
          "ignoring",
          "and",
          "or",
          "unless",
          "abs",
          "absent",
          "scalar",
          "vector",
          "offset",
          "bool",
          "le");

  private static final Pattern LABELS = Pattern.compile("\\{[^}]*}");

  private static final Pattern GROUPING =
      Pattern.compile("\\b(by|without|on|ignoring)\\s*\\([^)]*\\)");

  private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");

  private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  private Dashboards() {}

  static List<Path> files() {
    try (Stream<Path> s = Files.list(DIR)) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode read(Path p) {
    try {
      return JSON.readTree(p.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Query> queries() {
    List<Query> out = new ArrayList<>();
    for (Path p : files()) {
      JsonNode d = read(p);
      for (JsonNode panel : d.path("panels")) {
        for (JsonNode t : panel.path("targets")) {
          out.add(
              new Query(
                  d.path("uid").asText(),
                  panel.path("id").asInt(),
                  panel.path("title").asText(),
                  t.path("expr").asText()));
        }
      }
    }
    return out;
  }

  /** The metric names a PromQL expression reads. */
  static Set<String> metricNames(String expr) {
    String s = LABELS.matcher(expr).replaceAll(" ");
    s = GROUPING.matcher(s).replaceAll(" ");
    s = RANGE.matcher(s).replaceAll(" ");
    Set<String> names = new TreeSet<>();
    Matcher m = IDENT.matcher(s);
    while (m.find()) {
      if (!PROMQL_WORDS.contains(m.group())) {
        names.add(m.group());
      }
    }
    return names;
  }
}
