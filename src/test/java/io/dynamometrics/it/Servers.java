package io.dynamometrics.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Real server processes on loopback for integration tests: found on the PATH or in /usr/sbin, stopped by pid. */
public final class Servers {
  private Servers() {}

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The absolute path of {@code name}, searched on PATH and in /usr/sbin and /usr/bin. */
  public static String binary(String name) {
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
    dirs.addAll(List.of("/usr/sbin", "/usr/bin", "/usr/local/bin"));
    for (String d : dirs) {
      Path p = Path.of(d, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new IllegalStateException(name + " not found; run .ci/run or apt-get install it");
  }

  public static void awaitPort(int port, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        Thread.sleep(20);
      }
    }
    throw new IllegalStateException("nothing listens on 127.0.0.1:" + port + " after " + timeout);
  }

  /** Starts {@code command}, logging to {@code log}; the caller stops it. */
  public static Process start(Path log, String... command) throws IOException {
    Files.createDirectories(log.getParent());
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** SIGTERM, then SIGKILL after {@code grace}. */
  public static void stop(Process p, Duration grace) throws InterruptedException {
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    if (!p.waitFor(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
      p.destroyForcibly().waitFor();
    }
  }

  /** A nats-server on a free loopback port. */
  public static final class Nats implements AutoCloseable {
    public final int port;
    private final Process process;

    public Nats(Path logDir) throws Exception {
      this(logDir, freePort());
    }

    public Nats(Path logDir, int port) throws Exception {
      this.port = port;
      this.process = start(logDir.resolve("nats-" + port + ".log"), binary("nats-server"), "-a", "127.0.0.1", "-p", Integer.toString(port));
      awaitPort(port, Duration.ofSeconds(10));
    }

    public String url() {
      return "nats://127.0.0.1:" + port;
    }

    public long pid() {
      return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
      stop(process, Duration.ofSeconds(5));
    }
  }
}
