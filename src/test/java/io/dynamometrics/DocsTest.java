package io.dynamometrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The documents a user reads: every relative link leads to a file (and heading) that exists, none
 * reads as a work log, and the commands the README gives first are the ones CI runs.
 */
class DocsTest {
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
  private static final Pattern HEADING = Pattern.compile("^#+ (.+)$", Pattern.MULTILINE);

  static List<Path> documents() throws IOException {
    List<Path> out = new ArrayList<>(List.of(Path.of("README.md"), Path.of("CONTRIBUTING.md")));
    try (Stream<Path> s = Files.list(Path.of("docs"))) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(out::add);
    }
    return out;
  }

  /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
  static String anchor(String heading) {
    return heading
        .strip()
        .toLowerCase(Locale.ROOT)
        .replaceAll("[^\\p{L}\\p{N} _-]", "")
        .replace(' ', '-');
  }

  private static Set<String> anchors(Path doc) throws IOException {
    Set<String> out = new HashSet<>();
    Matcher m = HEADING.matcher(Files.readString(doc));
    while (m.find()) {
      out.add(anchor(m.group(1)));
    }
    return out;
  }

  @Test
  void everyRelativeLinkLeadsSomewhere() throws IOException {
    int checked = 0;
    for (Path doc : documents()) {
      Matcher m = LINK.matcher(Files.readString(doc));
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^[a-z]+:.*")) {
          continue; // https:, mailto:
        }
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        Path resolved = file.isEmpty() ? doc : doc.resolveSibling(file).normalize();
        assertThat(resolved).as("%s links to %s", doc, target).exists();
        if (hash >= 0) {
          assertThat(anchors(resolved))
              .as("%s links to %s: no such heading", doc, target)
              .contains(target.substring(hash + 1));
        }
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(20);
  }

  @Test
  void noDocumentReadsAsAWorkLog() throws IOException {
    Pattern log =
        Pattern.compile(
            "(?i)\\b(issue #?\\d+|issues? \\d+|(?<![A-Za-z])#\\d{1,3}\\b|sessions?\\b|rerun|before this change"
                + "|used to|\\.\\./shared)");
    for (Path doc : documents()) {
      Matcher m = log.matcher(Files.readString(doc));
      assertThat(m.find()).as("%s says \"%s\"", doc, m.hitEnd() ? "" : safeGroup(m)).isFalse();
    }
  }

  private static String safeGroup(Matcher m) {
    try {
      return m.group();
    } catch (IllegalStateException e) {
      return "";
    }
  }

  /** The first code block under a README heading. */
  private static String block(String readme, String heading) {
    int at = readme.indexOf("\n## " + heading + "\n");
    assertThat(at).as("README has ## %s", heading).isNotNegative();
    int start = readme.indexOf("```sh\n", at) + "```sh\n".length();
    return readme.substring(start, readme.indexOf("```", start)).strip();
  }

  @Test
  void theReadmesFirstCommandsAreTheOnesCiRuns() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    assertThat(block(readme, "Test it")).isEqualTo("bin/test");
    assertThat(Files.readString(Path.of(".ci/run"))).contains("exec bin/test");
    // LoggingIT runs this very command line and reads what it prints
    assertThat(block(readme, "Run it")).startsWith("bin/dynamo-metrics demo ");
    assertThat(Files.readString(Path.of("src/test/java/io/dynamometrics/it/LoggingIT.java")))
        .contains("\"bin/dynamo-metrics\"", "\"demo\"");
    assertThat(readme.lines().count()).as("README lines").isLessThanOrEqualTo(200);
  }
}
