package io.dynamometrics.transport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An in-process bus with NATS's subject routing ({@code *} matches one token, {@code >} the rest),
 * for the embedded demo and tests. Delivery is synchronous on the publisher's thread. {@link
 * #setConnected(boolean)} simulates a lost server: nothing is delivered while "disconnected".
 */
public final class LocalTransport implements Transport {
  private static final Logger LOG = Logger.getLogger(LocalTransport.class.getName());

  private record Sub(String queue, MessageHandler handler) {}

  private final Map<String, List<Sub>> subs = new ConcurrentHashMap<>();
  private final AtomicLong inboxes = new AtomicLong();
  private volatile boolean connected = true;

  public void setConnected(boolean connected) {
    this.connected = connected;
  }

  @Override
  public boolean isConnected() {
    return connected;
  }

  @Override
  public Gather gather(List<String> subjects, byte[] payload) {
    BlockingQueue<Gather.Reply> replies = new LinkedBlockingQueue<>();
    String inbox = "_INBOX.local." + inboxes.incrementAndGet();
    Subscription sub =
        subscribe(inbox, null, m -> replies.offer(new Gather.Reply(m.data(), false)));
    if (connected) {
      for (String subject : subjects) {
        if (!deliver(new Message(subject, inbox, payload))) {
          replies.offer(Gather.Reply.NO_RESPONDERS);
        }
      }
    }
    return new Gather() {
      @Override
      public Reply next(long deadlineNanos) throws InterruptedException {
        return replies.poll(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
      }

      @Override
      public List<Reply> drain() {
        List<Reply> out = new ArrayList<>();
        replies.drainTo(out);
        return out;
      }

      @Override
      public void close() {
        sub.close();
      }
    };
  }

  @Override
  public void publish(String subject, byte[] data) {
    if (connected) {
      deliver(new Message(subject, null, data));
    }
  }

  /** Delivers to every plain subscriber and one member of each queue group; false if none. */
  private boolean deliver(Message message) {
    List<Sub> list = subs.get(message.subject());
    List<Sub> matching = list == null ? List.of() : list;
    if (wildcards > 0) { // few subscriptions use wildcards: look at them only when some do
      List<Sub> all = new java.util.ArrayList<>(matching);
      subs.forEach(
          (pattern, l) -> {
            if (pattern.indexOf('*') >= 0 || pattern.indexOf('>') >= 0) {
              if (matches(pattern, message.subject())) {
                all.addAll(l);
              }
            }
          });
      matching = all;
    }
    if (matching.isEmpty()) {
      return false;
    }
    Map<String, Sub> chosen = new HashMap<>();
    for (Sub s : matching) {
      if (s.queue == null) {
        invoke(s, message);
      } else if (chosen.putIfAbsent(s.queue, s) != null
          && ThreadLocalRandom.current().nextBoolean()) {
        chosen.put(s.queue, s);
      }
    }
    chosen.values().forEach(s -> invoke(s, message));
    return true;
  }

  private static void invoke(Sub s, Message message) {
    try {
      s.handler.onMessage(message);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "handler for " + message.subject() + " failed", e);
    }
  }

  /** Whether {@code subject} matches the NATS {@code pattern}. */
  static boolean matches(String pattern, String subject) {
    String[] p = pattern.split("\\.", -1);
    String[] s = subject.split("\\.", -1);
    for (int i = 0; i < p.length; i++) {
      if (p[i].equals(">")) {
        return i < s.length;
      }
      if (i >= s.length || !(p[i].equals("*") || p[i].equals(s[i]))) {
        return false;
      }
    }
    return p.length == s.length;
  }

  private volatile int wildcards;

  @Override
  public Subscription subscribe(String subject, String queue, MessageHandler handler) {
    Sub sub = new Sub(queue, handler);
    boolean wildcard = subject.indexOf('*') >= 0 || subject.indexOf('>') >= 0;
    if (wildcard) {
      synchronized (this) {
        wildcards++;
      }
    }
    subs.compute(
        subject,
        (s, l) -> {
          List<Sub> list = l == null ? new CopyOnWriteArrayList<>() : l;
          list.add(sub);
          return list;
        });
    return new Subscription() {
      @Override
      public long dropped() {
        return 0;
      }

      @Override
      public void close() {
        if (wildcard) {
          synchronized (LocalTransport.this) {
            wildcards--;
          }
        }
        subs.computeIfPresent(
            subject,
            (s, l) -> {
              l.remove(sub);
              return l.isEmpty() ? null : l;
            });
      }
    };
  }

  @Override
  public void close() {
    subs.clear();
  }
}
