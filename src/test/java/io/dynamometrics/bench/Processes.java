package io.dynamometrics.bench;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Starting and stopping the processes a benchmark measures (nats-server, mock workers, the
 * aggregator); the integration tests use the same helpers.
 */
public final class Processes {
  private Processes() {}

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Whether nothing listens on {@code port} of the loopback address now. */
  public static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort() == port;
    } catch (IOException taken) {
      return false;
    }
  }

  /**
   * {@code name} on the PATH or in /usr/sbin, /usr/bin, or an error naming the package to install.
   */
  public static String binary(String name, String debianPackage) {
    List<String> dirs =
        new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
    dirs.addAll(List.of("/usr/sbin", "/usr/bin", "/usr/local/bin"));
    for (String d : dirs) {
      Path p = Path.of(d, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new IllegalStateException(
        name + " not found: install the Debian package " + debianPackage);
  }

  /**
   * The command that runs this very jar with {@code args}, and one more JVM option (or {@code
   * null}).
   */
  static List<String> self(String maxHeap, List<String> jvmOptions, String... args) {
    List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx" + maxHeap, "-XX:+UseSerialGC"));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", jar()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** The java binary running this process. */
  static String java() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /**
   * The product jar the harness measures: {@code -Dbench.jar}, else {@code
   * target/dynamo-metrics.jar}.
   */
  static String jar() {
    Path jar =
        Path.of(System.getProperty("bench.jar", "target/dynamo-metrics.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          jar + " is missing: build it first (mvn package, or bin/bench does it)");
    }
    return jar.toString();
  }

  /** The class path of this process, for helpers that run in their own JVM. */
  static String classPath() {
    return System.getProperty("java.class.path");
  }

  static Process start(Path log, List<String> command) throws IOException {
    Files.createDirectories(log.getParent());
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /** A nats-server (Debian's) on {@code port} of loopback, started and listening. */
  static Process natsServer(Path log, int port) throws IOException {
    Process p =
        start(
            log,
            List.of(
                binary("nats-server", "nats-server"),
                "-a",
                "127.0.0.1",
                "-p",
                Integer.toString(port)));
    awaitPort(port, Duration.ofSeconds(10));
    return p;
  }

  /** VmRSS of {@code p} in KiB (the launcher execs java, so its pid is the JVM's). */
  static long rssKib(Process p) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  public static void awaitPort(int port, Duration timeout) {
    await("something listening on 127.0.0.1:" + port)
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(20))
        .ignoreExceptionsInstanceOf(IOException.class)
        .until(
            () -> {
              try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return s.isConnected();
              }
            });
  }

  static void stop(Process p) throws InterruptedException {
    stop(p, Duration.ofSeconds(10));
  }

  /** SIGTERM, then SIGKILL after {@code grace}. */
  public static void stop(Process p, Duration grace) throws InterruptedException {
    if (p != null && p.isAlive()) {
      p.destroy();
      if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor();
      }
    }
  }

  /**
   * The live objects of a JVM process after a full GC ({@code jcmd PID GC.class_histogram}), as
   * printed: one line per class with instances and bytes, then a {@code Total} line.
   */
  public static String classHistogram(long pid) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process histo =
        new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.class_histogram")
            .redirectErrorStream(true)
            .start();
    String out = new String(histo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    histo.waitFor();
    return out;
  }

  /**
   * The live heap in bytes from a {@link #classHistogram}: its total, less the filler arrays and
   * objects ({@code jdk.internal.vm.Filler*}) that stand for dead space the collector left in place
   * (the serial collector's full GC leaves up to 5% of the old generation uncompacted), which no
   * object retains.
   */
  public static double liveHeapBytes(String histogram) {
    double filler = 0;
    for (String line : histogram.split("\n")) {
      String[] cols = line.trim().split("\\s+"); // "1:  instances  bytes  class (module)"
      if (cols.length == 3 && cols[0].equals("Total")) {
        return Double.parseDouble(cols[2]) - filler;
      }
      if (cols.length >= 4 && cols[0].endsWith(":") && cols[3].contains("jdk.internal.vm.Filler")) {
        filler += Double.parseDouble(cols[2]);
      }
    }
    throw new IllegalStateException(
        "jcmd GC.class_histogram gave no total: " + histogram.lines().limit(3).toList());
  }

  /**
   * Live instances per class from a {@link #classHistogram}, for classes whose name starts with
   * {@code prefix}.
   */
  public static Map<String, Long> instances(String histogram, String prefix) {
    Map<String, Long> counts = new TreeMap<>();
    for (String line : histogram.split("\n")) {
      String[] cols = line.trim().split("\\s+"); // "1:  instances  bytes  class (module)"
      if (cols.length >= 4 && cols[0].endsWith(":") && cols[3].startsWith(prefix)) {
        counts.merge(cols[3], Long.parseLong(cols[1]), Long::sum);
      }
    }
    return counts;
  }
}
