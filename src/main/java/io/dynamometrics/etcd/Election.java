package io.dynamometrics.etcd;

import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import java.io.IOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Dynamo's singleton claim, with failover: the key is created only if absent, on a lease kept alive
 * in the background. A leader that cannot renew its lease for most of its TTL stops leading at once
 * (before the lease can expire and someone else take over), then campaigns again. A standby checks
 * the key every {@code retry} and claims it as soon as it is gone.
 */
public final class Election implements BooleanSupplier, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Election.class.getName());

  /** The key is held by another instance and this one may not wait for it. */
  public static final class HeldElsewhere extends Exception {
    private static final long serialVersionUID = 1L;

    public HeldElsewhere(String message) {
      super(message, null, false, false);
    }
  }

  private final EtcdClient etcd;
  private final String key;
  private final String value;
  private final long ttlSeconds;
  private final Duration keepAlive;
  private final Duration retry;
  private volatile boolean leader;
  private volatile boolean closed;
  // written by start() and the election thread, read by close() on another thread
  private volatile long lease;
  private volatile long lastRenewNanos;
  private volatile Thread thread;

  public Election(
      EtcdClient etcd, String key, String value, Duration ttl, Duration keepAlive, Duration retry) {
    this.etcd = etcd;
    this.key = key;
    this.value = value;
    this.ttlSeconds = ttl.toSeconds();
    this.keepAlive = keepAlive;
    this.retry = retry;
  }

  /**
   * Claims the key once, then keeps leading (or waiting) in the background.
   *
   * @throws HeldElsewhere when someone else holds the key and {@code standby} is false
   * @throws IOException when etcd cannot be reached at all
   */
  public synchronized void start(boolean standby) throws IOException, HeldElsewhere {
    if (!tryClaim()) {
      String holder = etcd.get(key);
      if (!standby) {
        throw new HeldElsewhere(
            "another aggregator holds "
                + key
                + " ("
                + holder
                + "); stop it, or run this one with --standby to take over when it goes");
      }
      Log.log(
          LOG,
          Level.INFO,
          "standing by: another aggregator holds " + key + " (" + holder + ")",
          Field.of("key", key),
          Field.of("holder", holder));
    }
    thread = Thread.ofPlatform().daemon().name("election").start(this::run);
  }

  private boolean tryClaim() throws IOException {
    long l = etcd.grantLease(ttlSeconds);
    if (etcd.createIfAbsent(key, value, l)) {
      lease = l;
      lastRenewNanos = System.nanoTime();
      leader = true;
      Log.log(
          LOG,
          Level.INFO,
          "leading: holds " + key + " on lease " + Long.toHexString(l),
          Field.of("key", key),
          Field.of("lease", Long.toHexString(l)));
      return true;
    }
    etcd.revokeLease(l);
    return false;
  }

  private void run() {
    while (!closed) {
      try {
        Thread.sleep(leader ? keepAlive : retry);
        if (closed) {
          return;
        }
        if (leader) {
          renew();
        } else if (etcd.get(key) == null) {
          tryClaim();
        }
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        if (leader) {
          stepDownIfLate("cannot renew the lease: " + e.getMessage());
        } else {
          LOG.fine("standby cannot reach etcd: " + e.getMessage());
        }
      }
    }
  }

  private void renew() throws IOException {
    if (etcd.keepAlive(lease) > 0) {
      lastRenewNanos = System.nanoTime();
    } else {
      stepDown("lease " + Long.toHexString(lease) + " expired");
    }
  }

  /**
   * Steps down once most of the TTL passed without a renewal, so the old lease cannot outlive our
   * claim.
   */
  private void stepDownIfLate(String why) {
    long sinceRenew = System.nanoTime() - lastRenewNanos;
    if (sinceRenew
        > Duration.ofSeconds(ttlSeconds).minus(keepAlive.dividedBy(2)).minusSeconds(1).toNanos()) {
      stepDown(why);
    }
  }

  private void stepDown(String why) {
    leader = false;
    Log.log(
        LOG,
        Level.WARNING,
        "stopped leading: " + why + "; campaigning again",
        Field.of("key", key),
        Field.of("reason", why));
  }

  /** Whether this instance leads now. */
  @Override
  public boolean getAsBoolean() {
    return leader;
  }

  /** Gives the key up (revoking the lease), so a standby can take over at once. */
  @Override
  public synchronized void close() {
    closed = true;
    if (thread != null) {
      thread.interrupt();
    }
    if (leader) {
      leader = false;
      try {
        etcd.revokeLease(lease);
      } catch (IOException e) {
        LOG.warning(
            "could not revoke lease "
                + Long.toHexString(lease)
                + " (it expires by itself in "
                + ttlSeconds
                + " s): "
                + e.getMessage());
      }
    }
  }
}
