package io.dynamometrics.it;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * What a test started, processes and servers, stopped in reverse order by {@link #close()}: a
 * process gets SIGTERM and 5 s before SIGKILL.
 */
final class Started implements AutoCloseable {
  private final Deque<AutoCloseable> stack = new ArrayDeque<>();
  private final List<Process> processes = new ArrayList<>();

  Process process(Process p) {
    processes.add(p);
    stack.push(() -> Servers.stop(p, Duration.ofSeconds(5)));
    return p;
  }

  <T extends AutoCloseable> T server(T server) {
    stack.push(server);
    return server;
  }

  /** Processes started so far (and not yet stopped by {@link #close()}). */
  int processCount() {
    return processes.size();
  }

  /** The process started last. */
  Process lastProcess() {
    return processes.get(processes.size() - 1);
  }

  @Override
  public void close() throws Exception {
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
    processes.clear();
    if (first != null) {
      throw first;
    }
  }
}
