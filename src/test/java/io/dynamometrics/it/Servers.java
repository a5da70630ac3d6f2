package io.dynamometrics.it;

import io.dynamometrics.bench.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Real server processes on loopback for integration tests: found on the PATH or in /usr/sbin,
 * stopped by pid.
 */
public final class Servers {
  private Servers() {}

  public static int freePort() throws IOException {
    return Processes.freePort();
  }

  /**
   * The absolute path of {@code name}, searched on PATH and in /usr/sbin, /usr/bin, /usr/local/bin.
   */
  public static String binary(String name) {
    return Processes.binary(name, name + " (see bin/test)");
  }

  public static void awaitPort(int port, Duration timeout) throws InterruptedException {
    Processes.awaitPort(port, timeout);
  }

  /** Starts {@code command}, logging to {@code log}; the caller stops it. */
  public static Process start(Path log, String... command) throws IOException {
    return start(log, Map.of(), command);
  }

  /** Starts {@code command} with extra environment variables, logging to {@code log}. */
  public static Process start(Path log, Map<String, String> env, String... command)
      throws IOException {
    Files.createDirectories(log.getParent());
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  /** SIGTERM, then SIGKILL after 5 s; interrupted, SIGKILL at once (and the interrupt kept). */
  public static void halt(Process p) {
    try {
      stop(p, Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM, then SIGKILL after {@code grace}. */
  public static void stop(Process p, Duration grace) throws InterruptedException {
    Processes.stop(p, grace);
  }

  /** A nats-server on a free loopback port. */
  public static final class Nats implements AutoCloseable {
    public final int port;
    private final Process process;

    public Nats(Path logDir) throws Exception {
      this(logDir, freePort());
    }

    public Nats(Path logDir, int port, String... extra) throws Exception {
      this.port = port;
      List<String> cmd =
          new ArrayList<>(
              List.of(binary("nats-server"), "-a", "127.0.0.1", "-p", Integer.toString(port)));
      cmd.addAll(List.of(extra));
      this.process = start(logDir.resolve("nats-" + port + ".log"), cmd.toArray(String[]::new));
      awaitPort(port, Duration.ofSeconds(10));
    }

    public String url() {
      return "nats://127.0.0.1:" + port;
    }

    public long pid() {
      return process.pid();
    }

    @Override
    public void close() {
      halt(process);
    }
  }

  /** A prometheus-pushgateway on a free loopback port, without persistence. */
  public static final class Pushgateway implements AutoCloseable {
    public final int port;
    private final Process process;

    public Pushgateway(Path logDir, int port) throws Exception {
      this.port = port;
      // Debian's build persists to /var/lib/prometheus by default; a test gateway starts empty
      this.process =
          start(
              logDir.resolve("pushgateway-" + port + ".log"),
              binary("prometheus-pushgateway"),
              "--web.listen-address=127.0.0.1:" + port,
              "--persistence.file=");
      awaitPort(port, Duration.ofSeconds(10));
    }

    public String url() {
      return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
      halt(process);
    }
  }

  /** A single-member etcd on free loopback ports, with its data in a fresh directory. */
  public static final class Etcd implements AutoCloseable {
    public final int port;
    private final String url;
    private final String[] command;
    private final Path log;
    private Process process;

    public Etcd(Path logDir) throws Exception {
      this(logDir, null, null, null);
    }

    /**
     * An etcd serving clients over TLS with {@code cert}/{@code key}; with {@code clientCa} it
     * requires client certificates signed by it.
     */
    public Etcd(Path logDir, String cert, String key, String clientCa) throws Exception {
      this.port = freePort();
      int peer = freePort();
      Path data = Files.createTempDirectory("etcd");
      String client = (cert == null ? "http" : "https") + "://127.0.0.1:" + port;
      String peerUrl = "http://127.0.0.1:" + peer;
      this.url = client;
      this.log = logDir.resolve("etcd-" + port + ".log");
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  binary("etcd"),
                  "--name",
                  "it",
                  "--data-dir",
                  data.toString(),
                  "--listen-client-urls",
                  client,
                  "--advertise-client-urls",
                  client,
                  "--listen-peer-urls",
                  peerUrl,
                  "--initial-advertise-peer-urls",
                  peerUrl,
                  "--initial-cluster",
                  "it=" + peerUrl));
      if (cert != null) {
        cmd.addAll(List.of("--cert-file", cert, "--key-file", key));
      }
      if (clientCa != null) {
        cmd.addAll(List.of("--trusted-ca-file", clientCa, "--client-cert-auth"));
      }
      this.command = cmd.toArray(String[]::new);
      startProcess();
    }

    private void startProcess() throws Exception {
      this.process = start(log, command);
      awaitPort(port, Duration.ofSeconds(15));
    }

    /** Stops etcd, waits {@code away}, and starts it again on the same port and data. */
    public void restart(Duration away) throws Exception {
      stop(process, Duration.ofSeconds(5));
      Thread.sleep(away);
      startProcess();
    }

    public String url() {
      return url;
    }

    @Override
    public void close() {
      halt(process);
    }
  }
}
