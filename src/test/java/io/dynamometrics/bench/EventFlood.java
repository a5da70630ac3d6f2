package io.dynamometrics.bench;

import io.dynamometrics.wire.PushDecoder;
import io.dynamometrics.wire.PushEncoder;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Publishes as fast as one connection can, for the ingest benchmarks: KV hit-rate events (JSON), or
 * with a fourth argument {@code load} the msgpack envelopes of 10,000 workers' load, as Dynamo 0.9
 * to 1.3 push it. Run as its own process ({@code java -cp TEST-CLASSPATH
 * io.dynamometrics.bench.EventFlood URL SUBJECT SECONDS [load]}).
 */
public final class EventFlood {
  /** The simulated workers of the load flood. */
  static final int LOAD_WORKERS = 10_000;

  private EventFlood() {}

  @SuppressWarnings("try") // jnats declares Connection.close() to throw InterruptedException
  public static void main(String[] args) throws Exception {
    String url = args[0];
    String subject = args[1];
    long seconds = Long.parseLong(args[2]);
    boolean load = args.length > 3 && args[3].equals("load");
    byte[][] events = new byte[load ? LOAD_WORKERS : 1000][];
    for (int i = 0; i < events.length; i++) {
      events[i] =
          load
              ? PushEncoder.envelope(
                  1_000_000 + i,
                  0,
                  System.currentTimeMillis(),
                  PushDecoder.KV_METRICS,
                  PushEncoder.activeLoad(1_000_000 + i, 0, i % 500, i % 700))
              : ("{\"worker_id\":"
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
        for (byte[] e : events) {
          c.publish(subject, e);
        }
        sent += events.length;
      }
      c.flush(Duration.ofSeconds(10));
      System.out.println("sent " + sent);
    }
  }
}
