package io.dynamometrics.transport;

import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import io.dynamometrics.net.Endpoints;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Consumer;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * {@link Transport} over a real NATS server (jnats). Reconnects forever, from the first connect on,
 * so the service starts and serves HTTP while NATS is away; state changes are logged once each.
 * jnats closes a connection for good when a server refuses the same credentials twice in a row (a
 * password rotated on the server first, say); this transport then opens a new one, so the service
 * recovers by itself once the server accepts it again.
 */
public final class NatsTransport implements Transport {
  private static final Logger LOG = Logger.getLogger(NatsTransport.class.getName());

  /** The configured servers, without credentials: for logs. */
  private final String url;

  /** The server of the current (or last) connection, without credentials: for logs. */
  private volatile String server;

  private final List<NatsSub> subs =
      new ArrayList<>(); // every open subscription, bound or waiting for a connection
  private Options options;
  private volatile Connection
      connection; // null until a connect succeeds, and again after jnats closed it
  private Dispatcher dispatcher;
  private volatile boolean closed;
  private volatile String state = "starting";

  /**
   * Events and other floods: at most this many messages wait for the handler; more are dropped and
   * counted.
   */
  private static final long BOUNDED_PENDING_MESSAGES = 1_000_000;

  private static final long BOUNDED_PENDING_BYTES = 256L * 1024 * 1024;

  private volatile String refusal;

  private final AtomicLong refusals = new AtomicLong();

  private NatsTransport(String url) {
    this.url = Endpoints.redacted(url);
  }

  /**
   * Starts connecting to {@code url} with credentials from {@code auth}, in the background and
   * forever: the service serves HTTP (not ready) until NATS answers. Subscriptions made meanwhile
   * take effect on the first connect.
   *
   * @throws IOException when the options are unusable (not when the server is down)
   */
  public static NatsTransport connect(String url, NatsAuth auth)
      throws IOException, InterruptedException {
    return connect(url, auth, null);
  }

  /**
   * Connects to the NATS servers in {@code url} (comma-separated), retrying in the background.
   *
   * @param tls the TLS context for {@code tls://} servers (custom CA, client certificate), or
   *     {@code null}
   */
  public static NatsTransport connect(String url, NatsAuth auth, SSLContext tls)
      throws IOException, InterruptedException {
    NatsTransport transport = new NatsTransport(url);
    Options.Builder options =
        new Options.Builder()
            .server(url)
            .connectionName("dynamo-metrics")
            .maxReconnects(-1)
            .reconnectWait(Duration.ofMillis(500))
            .connectionTimeout(Duration.ofSeconds(2))
            .pingInterval(Duration.ofSeconds(5))
            .reconnectBufferSize(0) // a stale poll or event is worth nothing after a reconnect
            .connectionListener(transport::onEvent)
            .errorListener(transport.new QuietErrors());
    auth.apply(options);
    if (tls != null) {
      options.sslContext(tls);
    }
    try {
      transport.options = options.build();
      Nats.connectAsynchronously(transport.options, true);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new IOException(e.getMessage(), e);
    }
    return transport;
  }

  private void onEvent(Connection conn, ConnectionListener.Events type) {
    switch (type) {
      case CONNECTED, RECONNECTED, RESUBSCRIBED -> {
        // jnats reports the first success of a retried initial connect as RECONNECTED
        boolean first = connection == null;
        bind(conn);
        String at = Endpoints.redacted(conn.getConnectedUrl());
        server = at != null ? at : url;
        changeState(
            "up", (first ? "connected to NATS at " : "reconnected to NATS at ") + server, false);
      }
      case DISCONNECTED -> {
        if (!"refused".equals(state)) { // a refusal is the more useful thing to have said
          changeState(
              "down",
              "up".equals(state)
                  ? "lost NATS at " + server + "; reconnecting to " + url
                  : "cannot reach NATS at " + url + " yet; retrying until it answers",
              true);
        }
      }
      case CLOSED -> reopen(conn);
      default -> LOG.fine("NATS: " + type);
    }
  }

  /**
   * jnats gave up on {@code conn} (it does after the same refusal twice): start a fresh one, unless
   * we closed it.
   */
  private void reopen(Connection conn) {
    if (closed) { // checked before locking: close() holds the lock while jnats reports CLOSED
      return;
    }
    synchronized (this) {
      if (closed || (connection != null && connection != conn)) {
        return;
      }
      connection = null;
      dispatcher = null;
      subs.forEach(NatsSub::unbind);
    }
    LOG.fine("NATS connection closed by the client library; opening a new one");
    try {
      Nats.connectAsynchronously(options, true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Logs each change of connection state once. */
  private synchronized void changeState(String next, String message, boolean warn) {
    if (!next.equals(state)) {
      state = next;
      Log.log(
          LOG,
          warn ? Level.WARNING : Level.INFO,
          message,
          Field.of("nats_state", next),
          Field.of("servers", url));
    }
  }

  private synchronized void bind(Connection conn) {
    if (connection != null) {
      return;
    }
    if (closed) {
      closeQuietly(conn);
      return;
    }
    dispatcher = conn.createDispatcher();
    connection = conn;
    subs.forEach(NatsSub::bind);
  }

  @Override
  public Gather gather(List<String> subjects, byte[] payload) {
    Connection connection = this.connection;
    if (connection == null || connection.getStatus() != Connection.Status.CONNECTED) {
      return new EmptyGather();
    }
    String inbox = connection.createInbox();
    io.nats.client.Subscription sub = connection.subscribe(inbox);
    try {
      for (String subject : subjects) {
        connection.publish(subject, inbox, payload);
      }
    } catch (IllegalStateException e) { // disconnected in between
      sub.unsubscribe();
      return new EmptyGather();
    }
    return new Gather() {
      @Override
      public Reply next(long deadlineNanos) throws InterruptedException {
        long wait = deadlineNanos - System.nanoTime();
        if (wait <= 0) {
          return null;
        }
        io.nats.client.Message m;
        try {
          m = sub.nextMessage(Duration.ofNanos(wait));
        } catch (IllegalStateException e) { // connection closed
          return null;
        }
        if (m == null) {
          return null;
        }
        if (m.isStatusMessage()) {
          return m.getStatus().getCode() == 503 ? Reply.NO_RESPONDERS : next(deadlineNanos);
        }
        return new Reply(m.getData(), false);
      }

      @Override
      public List<Reply> drain() {
        List<Reply> out = new ArrayList<>();
        try {
          while (sub.getPendingMessageCount() > 0) {
            io.nats.client.Message m = sub.nextMessage(Duration.ofMillis(1));
            if (m == null) {
              break;
            }
            if (!m.isStatusMessage()) {
              out.add(new Reply(m.getData(), false));
            }
          }
        } catch (IllegalStateException closed) {
          // the connection closed: what was read is all there is
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return out;
      }

      @Override
      public void close() {
        try {
          sub.unsubscribe();
        } catch (IllegalStateException ignored) { // connection closed: nothing to undo
        }
      }
    };
  }

  @Override
  public void publish(String subject, byte[] data) {
    Connection connection = this.connection;
    if (connection != null && connection.getStatus() == Connection.Status.CONNECTED) {
      try {
        connection.publish(subject, data);
      } catch (
          IllegalStateException ignored) { // lost the connection just now: dropped, as documented
      }
    }
  }

  @Override
  public synchronized Subscription subscribe(String subject, String queue, MessageHandler handler) {
    return add(new NatsSub(List.of(subject), queue, handler, false));
  }

  @Override
  public synchronized Subscription subscribeBounded(List<String> subjects, MessageHandler handler) {
    return add(new NatsSub(subjects, null, handler, true));
  }

  private NatsSub add(NatsSub sub) {
    subs.add(sub);
    if (connection != null) {
      sub.bind();
    }
    return sub;
  }

  /** A subscription that binds to a dispatcher once there is a connection. */
  private final class NatsSub implements Subscription {
    private final List<String> subjects;
    private final String queue;
    private final io.nats.client.MessageHandler handler;
    private final boolean ownDispatcher;
    private volatile Dispatcher bound;
    private volatile io.nats.client.Subscription sub; // the first of the subjects
    private volatile long droppedBefore; // by connections jnats has closed

    NatsSub(List<String> subjects, String queue, MessageHandler handler, boolean ownDispatcher) {
      this.subjects = List.copyOf(subjects);
      this.queue = queue;
      this.handler =
          m -> handler.onMessage(new Message(m.getSubject(), m.getReplyTo(), m.getData()));
      this.ownDispatcher = ownDispatcher;
    }

    void bind() {
      Dispatcher d = dispatcher;
      if (ownDispatcher) {
        d = connection.createDispatcher();
        d.setPendingLimits(BOUNDED_PENDING_MESSAGES, BOUNDED_PENDING_BYTES);
      }
      bound = d;
      io.nats.client.Subscription first = null;
      for (String subject : subjects) {
        io.nats.client.Subscription s =
            queue == null ? d.subscribe(subject, handler) : d.subscribe(subject, queue, handler);
        first = first == null ? s : first;
      }
      sub = first;
    }

    /** The connection is gone: keep what it dropped, bind again on the next one. */
    void unbind() {
      droppedBefore = dropped();
      bound = null;
      sub = null;
    }

    @Override
    public long dropped() {
      Dispatcher d = bound;
      io.nats.client.Subscription s = sub;
      return droppedBefore
          + (d == null || s == null
              ? 0
              : ownDispatcher ? d.getDroppedCount() : s.getDroppedCount());
    }

    @Override
    public void close() {
      synchronized (NatsTransport.this) {
        subs.remove(this);
        io.nats.client.Subscription s = sub;
        Connection c = connection;
        if (s != null && c != null && c.getStatus() != Connection.Status.CLOSED) {
          if (ownDispatcher) {
            c.closeDispatcher(bound);
          } else {
            bound.unsubscribe(s);
          }
        }
      }
    }
  }

  @Override
  public boolean isConnected() {
    Connection c = connection;
    return c != null && c.getStatus() == Connection.Status.CONNECTED;
  }

  /** Flushes what was published, then closes. */
  @Override
  public synchronized void close() {
    closed = true;
    Connection c = connection;
    if (c != null) {
      try {
        if (isConnected()) {
          c.flush(Duration.ofSeconds(1));
        }
      } catch (Exception e) {
        LOG.fine("flushing NATS: " + e);
      }
      closeQuietly(c);
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.fine("closing NATS: " + e);
    }
  }

  private static final class EmptyGather implements Gather {
    @Override
    public Reply next(long deadlineNanos) {
      return null;
    }

    @Override
    public List<Reply> drain() {
      return List.of();
    }

    @Override
    public void close() {}
  }

  @Override
  public long refusals() {
    return refusals.get();
  }

  /**
   * Waits up to {@code timeout} for the first connection. Returns the server's reason when it
   * refused this client (bad credentials, TLS required), or {@code null} when connected or when the
   * server simply is not there yet (then reconnecting goes on in the background).
   */
  public String awaitFirstConnect(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (isConnected()) {
        return null;
      }
      if (refusal != null) {
        return refusal;
      }
      Thread.sleep(20);
    }
    return refusal;
  }

  private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  /** jnats reports each failed reconnect attempt; the state log already said what matters. */
  private final class QuietErrors implements ErrorListener {
    @Override
    public void errorOccurred(Connection conn, String error) {
      String lower = error.toLowerCase(Locale.ROOT);
      if (lower.contains("authorization")
          || lower.contains("authentication")
          || lower.contains("tls")) {
        refusals.incrementAndGet();
        if (refusal == null) {
          refusal = error;
        }
        changeState(
            "refused", "NATS at " + url + " refused this client: " + error + "; retrying", true);
        return;
      }
      LOG.warning("NATS server error: " + error);
    }

    @Override
    public void exceptionOccurred(Connection conn, Exception exp) {
      String msg = String.valueOf(exp.getMessage()).toLowerCase(Locale.ROOT);
      if (refusal == null && connection == null) {
        if (msg.contains("authorization") || msg.contains("authentication")) {
          refusal = exp.getMessage();
        } else if (causedBy(exp, SSLException.class)) {
          refusal =
              "TLS handshake failed ("
                  + exp.getMessage()
                  + "); check NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY";
        }
      }
      LOG.fine("NATS: " + exp);
    }

    @Override
    public void slowConsumerDetected(Connection conn, Consumer consumer) {
      LOG.fine("NATS slow consumer; messages dropped are counted");
    }
  }
}
