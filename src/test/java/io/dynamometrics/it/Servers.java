package io.dynamometrics.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.bench.Processes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Real server processes on loopback for integration tests: found on the PATH or in /usr/sbin,
 * stopped by pid.
 */
public final class Servers {
  private Servers() {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

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
      this(binary("nats-server"), logDir, port, extra);
    }

    /**
     * nats-server 2.10 or newer with JetStream, which Dynamo 0.8.0 and later need (their client
     * rejects 2.9's JetStream info reply): the one {@code bin/go-tools} builds under target/tools.
     */
    public static Nats modern(Path logDir) throws Exception {
      Path built = Path.of("target/tools/bin/nats-server");
      if (!Files.isExecutable(built)) {
        throw new IllegalStateException(built + " is missing: run bin/go-tools");
      }
      return new Nats(
          built.toAbsolutePath().toString(),
          logDir,
          freePort(),
          "-js",
          "-sd",
          Files.createTempDirectory("nats-js").toString());
    }

    private Nats(String binary, Path logDir, int port, String... extra) throws Exception {
      this.port = port;
      List<String> cmd =
          new ArrayList<>(List.of(binary, "-a", "127.0.0.1", "-p", Integer.toString(port)));
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

    /** Kills the server at once (SIGKILL), as a crashed machine would leave its clients. */
    public void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor();
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

    /** The keys under {@code prefix}, read through etcd's v3 JSON gateway. */
    public List<String> keys(String prefix) throws Exception {
      byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
      byte[] end = p.clone();
      end[end.length - 1]++;
      String body =
          JSON.writeValueAsString(
              Map.of(
                  "key",
                  Base64.getEncoder().encodeToString(p),
                  "range_end",
                  Base64.getEncoder().encodeToString(end),
                  "keys_only",
                  true));
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url + "/v3/kv/range"))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      List<String> keys = new ArrayList<>();
      for (JsonNode kv : JSON.readTree(r.body()).path("kvs")) {
        keys.add(
            new String(
                Base64.getDecoder().decode(kv.path("key").asText()), StandardCharsets.UTF_8));
      }
      return keys;
    }

    @Override
    public void close() {
      halt(process);
    }
  }

  /** Three (or more) nats-servers routed together on loopback ports. */
  public static final class NatsCluster implements AutoCloseable {
    public final List<Nats> servers = new ArrayList<>();

    public NatsCluster(Path logDir, int size) throws Exception {
      int[] routes = new int[size];
      for (int i = 0; i < size; i++) {
        routes[i] = freePort();
      }
      for (int i = 0; i < size; i++) {
        List<String> others = new ArrayList<>();
        for (int j = 0; j < size; j++) {
          if (j != i) {
            others.add("nats://127.0.0.1:" + routes[j]);
          }
        }
        servers.add(
            new Nats(
                logDir,
                freePort(),
                "--cluster_name",
                "it",
                "--cluster",
                "nats://127.0.0.1:" + routes[i],
                "--routes",
                String.join(",", others)));
      }
    }

    /** Every server's client URL, comma-separated. */
    public String urls() {
      return String.join(",", servers.stream().map(Nats::url).toList());
    }

    @Override
    public void close() {
      servers.forEach(Nats::close);
    }
  }

  /** A three-member etcd cluster on loopback ports, each member with a fresh data directory. */
  public static final class EtcdCluster implements AutoCloseable {
    public final List<Integer> clientPorts = new ArrayList<>();
    private final List<Process> members = new ArrayList<>();

    public EtcdCluster(Path logDir, int size) throws Exception {
      List<Integer> peers = new ArrayList<>();
      List<String> initial = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        clientPorts.add(freePort());
        peers.add(freePort());
        initial.add("m" + i + "=http://127.0.0.1:" + peers.get(i));
      }
      String token = "it-" + System.nanoTime();
      for (int i = 0; i < size; i++) {
        String client = "http://127.0.0.1:" + clientPorts.get(i);
        String peer = "http://127.0.0.1:" + peers.get(i);
        members.add(
            start(
                logDir.resolve("etcd-cluster-" + clientPorts.get(i) + ".log"),
                binary("etcd"),
                "--name",
                "m" + i,
                "--data-dir",
                Files.createTempDirectory("etcd").toString(),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                peer,
                "--initial-advertise-peer-urls",
                peer,
                "--initial-cluster",
                String.join(",", initial),
                "--initial-cluster-token",
                token,
                "--initial-cluster-state",
                "new"));
      }
      for (int port : clientPorts) {
        awaitPort(port, Duration.ofSeconds(15));
      }
    }

    /** Every member's client URL, comma-separated (ETCD_ENDPOINTS). */
    public String urls() {
      return String.join(",", clientPorts.stream().map(p -> "http://127.0.0.1:" + p).toList());
    }

    /**
     * The index of the member that leads the Raft group, as the members report it; -1 while none
     * does.
     */
    public int leader() {
      for (int i = 0; i < members.size(); i++) {
        if (!members.get(i).isAlive()) {
          continue;
        }
        try {
          HttpResponse<String> r =
              HTTP.send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:" + clientPorts.get(i) + "/v3/maintenance/status"))
                      .timeout(Duration.ofSeconds(2))
                      .POST(HttpRequest.BodyPublishers.ofString("{}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          JsonNode status = JSON.readTree(r.body());
          String leader = status.path("leader").asText();
          if (!leader.isEmpty()
              && leader.equals(status.path("header").path("member_id").asText())) {
            return i;
          }
        } catch (IOException e) {
          // a member that does not answer is not the leader
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return -1;
        }
      }
      return -1;
    }

    /** Kills member {@code i} at once (SIGKILL). */
    public void kill(int i) throws InterruptedException {
      members.get(i).destroyForcibly();
      members.get(i).waitFor();
    }

    @Override
    public void close() {
      members.forEach(Servers::halt);
    }
  }
}
