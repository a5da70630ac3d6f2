package io.dynamometrics.transport;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Consumer;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.logging.Logger;

/**
 * {@link Transport} over a real NATS server (jnats). Reconnects forever, from the first connect on,
 * so the service starts and serves HTTP while NATS is away; state changes are logged once each.
 */
public final class NatsTransport implements Transport {
  private static final Logger LOG = Logger.getLogger(NatsTransport.class.getName());

  private final Connection connection;
  private final Dispatcher dispatcher;

  private NatsTransport(Connection connection) {
    this.connection = connection;
    this.dispatcher = connection.createDispatcher();
  }

  /**
   * Connects to {@code url} with credentials from {@code auth}, retrying in the background.
   *
   * @throws IOException when the URL or credentials are unusable (not when the server is down)
   */
  public static NatsTransport connect(String url, NatsAuth auth) throws IOException, InterruptedException {
    Options.Builder options =
        new Options.Builder()
            .server(url)
            .connectionName("dynamo-metrics")
            .maxReconnects(-1)
            .reconnectWait(Duration.ofMillis(500))
            .connectionTimeout(Duration.ofSeconds(2))
            .pingInterval(Duration.ofSeconds(5))
            .reconnectBufferSize(0) // a stale poll or event is worth nothing after a reconnect
            .connectionListener(new StateLog(url))
            .errorListener(new QuietErrors());
    auth.apply(options);
    return new NatsTransport(Nats.connectReconnectOnConnect(options.build()));
  }

  @Override
  public Gather gather(List<String> subjects, byte[] payload) {
    if (!isConnected()) {
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
    if (isConnected()) {
      try {
        connection.publish(subject, data);
      } catch (IllegalStateException ignored) { // lost the connection just now: dropped, as documented
      }
    }
  }

  @Override
  public Subscription subscribe(String subject, String queue, MessageHandler handler) {
    io.nats.client.MessageHandler h =
        m -> handler.onMessage(new Message(m.getSubject(), m.getReplyTo(), m.getData()));
    io.nats.client.Subscription sub =
        queue == null ? dispatcher.subscribe(subject, h) : dispatcher.subscribe(subject, queue, h);
    return new Subscription() {
      @Override
      public long dropped() {
        return sub.getDroppedCount();
      }

      @Override
      public void close() {
        if (connection.getStatus() != Connection.Status.CLOSED) {
          dispatcher.unsubscribe(sub);
        }
      }
    };
  }

  @Override
  public boolean isConnected() {
    return connection.getStatus() == Connection.Status.CONNECTED;
  }

  /** Flushes what was published, then closes. */
  @Override
  public void close() {
    try {
      if (isConnected()) {
        connection.flush(Duration.ofSeconds(1));
      }
      connection.close();
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
    public void close() {}
  }

  /** Logs each change of connection state once, at the level it deserves. */
  private record StateLog(String url) implements ConnectionListener {
    @Override
    public void connectionEvent(Connection conn, Events type) {
      switch (type) {
        case CONNECTED -> LOG.info("connected to NATS at " + url);
        case RECONNECTED -> LOG.info("reconnected to NATS at " + url);
        case DISCONNECTED -> LOG.warning("lost NATS at " + url + "; reconnecting until it returns");
        case CLOSED -> LOG.fine("NATS connection closed");
        default -> LOG.fine("NATS: " + type);
      }
    }
  }

  /** jnats reports each failed reconnect attempt; the state log already said what matters. */
  private static final class QuietErrors implements ErrorListener {
    @Override
    public void errorOccurred(Connection conn, String error) {
      LOG.warning("NATS server error: " + error);
    }

    @Override
    public void exceptionOccurred(Connection conn, Exception exp) {
      LOG.fine("NATS: " + exp);
    }

    @Override
    public void slowConsumerDetected(Connection conn, Consumer consumer) {
      LOG.fine("NATS slow consumer; messages dropped are counted");
    }
  }
}
