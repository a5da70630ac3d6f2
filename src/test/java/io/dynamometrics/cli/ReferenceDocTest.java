package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md is what the command definitions say, and names every environment variable
 * the code reads. {@code mvn test -Dtest=ReferenceDocTest -Ddocs.update=true} rewrites it.
 */
class ReferenceDocTest {
  private static final Path DOC = Path.of("docs/configuration.md");

  @Test
  void theReferenceIsWhatTheCommandsDefine() throws IOException {
    String expected = ReferenceDoc.markdown();
    if (Boolean.getBoolean("docs.update")) {
      Files.writeString(DOC, expected, StandardCharsets.UTF_8);
    }
    assertThat(Files.readString(DOC))
        .as(
            "docs/configuration.md is out of date: run mvn test -Dtest=ReferenceDocTest"
                + " -Ddocs.update=true")
        .isEqualTo(expected);
  }

  @Test
  void everyEnvironmentVariableTheCodeReadsIsDescribed() throws IOException {
    Pattern read =
        Pattern.compile(
            "(?:getenv|env\\.get\\w*|\\$\\{env:)\\(?\"?([A-Z][A-Z0-9_]+)"
                + "|\"((?:DYN|NATS|ETCD)_[A-Z0-9_]+)\"");
    Set<String> names = new TreeSet<>();
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      for (Path f :
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> !p.endsWith("ReferenceDoc.java")) // the list under test
              .toList()) {
        Matcher m = read.matcher(Files.readString(f));
        while (m.find()) {
          names.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
      }
    }
    assertThat(names).contains("NATS_AUTH_TOKEN", "ETCD_ENDPOINTS", "DYN_ZMQ_BROKER_URL");
    String doc = Files.readString(DOC);
    for (String name : names) {
      assertThat(doc).as(name).containsPattern("\\b" + name + "\\b");
    }
  }
}
