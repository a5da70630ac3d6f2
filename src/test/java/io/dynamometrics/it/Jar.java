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

  /**
   * The service's flags for a test: NATS at {@code natsUrl}, HTTP on 127.0.0.1:{@code port}, then
   * {@code more}.
   */
  public static String[] serving(String natsUrl, int port, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--nats-server", natsUrl, "--host", "127.0.0.1", "--port", Integer.toString(port)));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /**
   * The flags of {@code workers} mock workers in {@code namespace} on NATS at {@code natsUrl}, then
   * {@code more}.
   */
  public static String[] mockWorkers(
      String namespace, int workers, String natsUrl, int seed, String... more) {
    List<String> args =
        new ArrayList<>(List.of("mock-worker", "--namespace", namespace, "--nats-server", natsUrl));
    args.addAll(List.of("--workers", Integer.toString(workers), "--seed", Integer.toString(seed)));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /** {@link #serving} MyComponent/my_endpoint of {@code namespace}, polled every 0.25 s. */
  public static String[] watching(String namespace, String natsUrl, int port, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--namespace",
                namespace,
                "--component",
                "MyComponent",
                "--endpoint",
                "my_endpoint"));
    args.addAll(List.of("--poll-interval", "0.25"));
    args.addAll(List.of(more));
    return serving(natsUrl, port, args.toArray(String[]::new));
  }

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
