package io.dynamometrics.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Records each conformance check's outcome per Dynamo release (the invocation's display name) and
 * capability (the test method's name) and writes them to {@code target/conformance/results.tsv},
 * which {@code bin/conformance} prints as a table: "pass", "FAIL: why" or "not run: why".
 */
final class ConformanceTable implements TestWatcher, AfterAllCallback {
  static final Path RESULTS = Path.of("target/conformance/results.tsv");
  private static final Map<String, String> ROWS = new TreeMap<>();

  private static void record(ExtensionContext context, String outcome) {
    String capability = context.getRequiredTestMethod().getName();
    String version = context.getDisplayName().replace("\"", "");
    synchronized (ROWS) {
      ROWS.put(version + "\t" + capability, outcome.replaceAll("\\s+", " ").strip());
    }
  }

  private static String firstLine(Throwable t) {
    String m = String.valueOf(t.getMessage());
    int nl = m.indexOf('\n');
    return (nl < 0 ? m : m.substring(0, nl)).strip();
  }

  @Override
  public void testSuccessful(ExtensionContext context) {
    record(context, "pass");
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    record(context, "FAIL: " + firstLine(cause));
  }

  @Override
  public void testAborted(ExtensionContext context, Throwable cause) {
    record(context, "not run: " + firstLine(cause).replaceFirst("^Assumption failed: ", ""));
  }

  @Override
  public void testDisabled(ExtensionContext context, Optional<String> reason) {
    record(context, "not run: " + reason.orElse("disabled"));
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    Files.createDirectories(RESULTS.getParent());
    StringBuilder out = new StringBuilder("version\tcapability\tresult\n");
    synchronized (ROWS) {
      ROWS.forEach((key, outcome) -> out.append(key).append('\t').append(outcome).append('\n'));
    }
    Files.writeString(RESULTS, out);
  }
}
