package io.dynamometrics.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** Runs the packaged service as a user would, and reads its HTTP endpoints. */
public final class Jar {
  public static final Path LOGS = Path.of("target/it-logs");
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Jar() {}

  public static Process start(String logName, String... args) throws IOException {
    return start(logName, Map.of(), args);
  }

  public static Process start(String logName, Map<String, String> env, String... args)
      throws IOException {
    Path jar = Path.of("target/dynamo-metrics.jar");
    if (!Files.exists(jar)) {
      throw new IllegalStateException("run 'mvn package' first: " + jar + " is missing");
    }
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                jar.toString()));
    cmd.addAll(List.of(args));
    return Servers.start(LOGS.resolve(logName + ".log"), env, cmd.toArray(String[]::new));
  }

  /** Runs to completion and returns exit code and combined output. */
  public static Result run(String... args) throws Exception {
    return run(Map.of(), args);
  }

  public static Result run(Map<String, String> env, String... args) throws Exception {
    Path log = Files.createTempFile("dm", ".log");
    Process p = Servers.start(log, env, command(args));
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("did not finish: " + String.join(" ", args));
    }
    return new Result(p.exitValue(), Files.readString(log));
  }

  private static String[] command(String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                "target/dynamo-metrics.jar"));
    cmd.addAll(List.of(args));
    return cmd.toArray(String[]::new);
  }

  public record Result(int exitCode, String output) {}

  public static HttpResponse<String> get(int port, String path)
      throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Polls {@code path} until its body satisfies {@code ok}; returns that body. */
  public static String await(int port, String path, Predicate<String> ok, Duration timeout) {
    AtomicReference<String> last = new AtomicReference<>("");
    try {
      return Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(100))
          .ignoreExceptionsInstanceOf(IOException.class)
          .until(
              () -> {
                HttpResponse<String> r = get(port, path);
                last.set(r.body());
                return r;
              },
              r -> r.statusCode() == 200 && ok.test(r.body()))
          .body();
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "condition not met on " + path + " within " + timeout + "; last body:\n" + last.get());
    }
  }

  /** The lines of a /metrics body that start with {@code name} followed by '{' or ' '. */
  public static List<String> samples(String body, String name) {
    return body.lines().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " ")).toList();
  }
}
