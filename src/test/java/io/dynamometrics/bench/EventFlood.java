package io.dynamometrics.bench;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Publishes KV hit-rate events as fast as one connection can, for the ingest benchmark; run as its
 * own process ({@code java -cp TEST-CLASSPATH io.dynamometrics.bench.EventFlood URL SUBJECT
 * SECONDS}).
 */
public final class EventFlood {
  private EventFlood() {}

  @SuppressWarnings("try") // jnats declares Connection.close() to throw InterruptedException
  public static void main(String[] args) throws Exception {
    String url = args[0];
    String subject = args[1];
    long seconds = Long.parseLong(args[2]);
    byte[][] events = new byte[1000][];
    for (int i = 0; i < events.length; i++) {
      events[i] =
          ("{\"worker_id\":"
                  + (1_000_000 + i)
                  + ",\"isl_blocks\":64,\"overlap_blocks\":"
                  + (i % 64)
                  + "}")
              .getBytes(StandardCharsets.UTF_8);
    }
    try (Connection c =
        Nats.connect(
            new Options.Builder().server(url).maxMessagesInOutgoingQueue(1_000_000).build())) {
      long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
      long sent = 0;
      while (System.nanoTime() < end) {
        for (int i = 0; i < 1000; i++) {
          c.publish(subject, events[i]);
        }
        sent += 1000;
      }
      c.flush(Duration.ofSeconds(10));
      System.out.println("sent " + sent);
    }
  }
}
