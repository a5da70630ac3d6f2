package io.dynamometrics.bench;

import io.dynamometrics.wire.PushDecoder;
import io.dynamometrics.wire.PushEncoder;
import io.dynamometrics.wire.ZmqFrame;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * Dynamo workers' ZMQ load publishers, for the ZMQ ingest benchmark: binds {@code N} PUB sockets on
 * loopback ports the kernel picks (as Dynamo's publishers do), writes their addresses to a file one
 * per line, waits for a line on stdin, then sends each publisher's load in turn (the four frames of
 * a 1.x load message, sequences rising per publisher) for the given seconds and prints {@code sent
 * COUNT}. Run as its own process ({@code java -cp TEST-CLASSPATH io.dynamometrics.bench.ZmqFlood N
 * SECONDS ADDRESS-FILE}).
 */
public final class ZmqFlood {
  private ZmqFlood() {}

  /** The publisher id of publisher {@code i} (also its worker's id, for simplicity). */
  static long publisherId(int i) {
    return 0x5315a24510bf0000L + i;
  }

  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    long seconds = Long.parseLong(args[1]);
    Path addresses = Path.of(args[2]);
    try (ZContext context = new ZContext(1)) {
      List<ZMQ.Socket> pubs = new ArrayList<>();
      List<String> bound = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ZMQ.Socket s = context.createSocket(SocketType.PUB);
        s.setLinger(0);
        s.setSndHWM(1000);
        s.bind("tcp://127.0.0.1:*");
        pubs.add(s);
        bound.add(s.getLastEndpoint());
      }
      Files.write(addresses, bound);
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      in.readLine(); // the subscribers are connected
      long[] sequence = new long[n];
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      long sent = 0;
      byte[] topic = PushDecoder.KV_METRICS.getBytes(StandardCharsets.UTF_8);
      while (System.nanoTime() < end) {
        for (int i = 0; i < n; i++) {
          long id = publisherId(i);
          long seq = sequence[i]++;
          byte[] env =
              PushEncoder.envelope(
                  id,
                  seq,
                  1L,
                  PushDecoder.KV_METRICS,
                  PushEncoder.activeLoad(id, 0, seq % 500, seq % 700));
          byte[][] frames = new ZmqFrame(PushDecoder.KV_METRICS, id, seq, env).frames();
          ZMQ.Socket s = pubs.get(i);
          s.send(topic, ZMQ.SNDMORE);
          s.send(frames[1], ZMQ.SNDMORE);
          s.send(frames[2], ZMQ.SNDMORE);
          s.send(frames[3], 0);
          sent++;
        }
      }
      Thread.sleep(500); // what is queued goes out before the sockets close
      System.out.println("sent " + sent);
      System.out.flush();
      in.readLine(); // the subscribers have counted
    }
  }
}
