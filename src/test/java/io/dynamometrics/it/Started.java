package io.dynamometrics.it;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The one JUnit extension for what integration tests start: nats-server, etcd, the Pushgateway, the
 * service's jar, mock workers. What a test method starts is stopped after that test; what a
 * {@code @BeforeAll} starts, after the class; each in reverse order. A process gets SIGTERM and 5 s
 * before SIGKILL. Register it on an instance field of a {@code PER_CLASS} test:
 *
 * <pre>
 * &#64;RegisterExtension final Started started = new Started();
 * </pre>
 */
final class Started implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {
  private final Deque<AutoCloseable> suite = new ArrayDeque<>();
  private final Deque<AutoCloseable> test = new ArrayDeque<>();
  private final List<Process> processes = new ArrayList<>();
  private boolean inTest;

  @Override
  public void beforeEach(ExtensionContext context) {
    inTest = true;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    inTest = false;
    stop(test);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    stop(suite);
  }

  /** Stops everything, for use outside JUnit's lifecycle (a benchmark's finally block). */
  void close() throws Exception {
    try {
      stop(test);
    } finally {
      stop(suite);
    }
  }

  Process process(Process p) {
    processes.add(p);
    scope()
        .push(
            () -> {
              processes.remove(p);
              Servers.halt(p);
            });
    return p;
  }

  <T extends AutoCloseable> T server(T server) {
    scope().push(server);
    return server;
  }

  /** A nats-server on a free loopback port. */
  Servers.Nats nats(String... extra) throws Exception {
    return server(new Servers.Nats(Jar.LOGS, Servers.freePort(), extra));
  }

  /** A single-member etcd on free loopback ports. */
  Servers.Etcd etcd() throws Exception {
    return server(new Servers.Etcd(Jar.LOGS));
  }

  /** The service's jar with {@code args}, logging to target/it-logs/{@code log}.log. */
  Process jar(String log, String... args) throws Exception {
    return process(Jar.start(log, args));
  }

  /** The service's jar with extra environment variables. */
  Process jar(String log, Map<String, String> env, String... args) throws Exception {
    return process(Jar.start(log, env, args));
  }

  /** Processes started and not yet stopped. */
  int processCount() {
    return processes.size();
  }

  /** The process started last. */
  Process lastProcess() {
    return processes.get(processes.size() - 1);
  }

  private Deque<AutoCloseable> scope() {
    return inTest ? test : suite;
  }

  private static void stop(Deque<AutoCloseable> stack) throws Exception {
    Exception first = null;
    while (!stack.isEmpty()) {
      try {
        stack.pop().close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
