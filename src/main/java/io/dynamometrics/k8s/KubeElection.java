package io.dynamometrics.k8s;

import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseList;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One leader among the service's replicas under Kubernetes discovery, through a {@code
 * coordination.k8s.io/v1} Lease, by the rules Kubernetes' own controllers elect theirs: the holder
 * renews the Lease every {@code retry}; a standby takes it over once it has seen no change to it
 * for the holder's lease duration (its own clock, so clocks need not agree), or at once when the
 * holder gave it up. Every write carries the version read, so two standbys cannot both win. A
 * leader that cannot renew for {@code renewDeadline} (shorter than the lease) stops leading before
 * anyone can take over. A clean stop gives the Lease up.
 *
 * <p>Failures (no permission, the API server out of reach) are logged once with what to do and
 * counted; the election goes on trying.
 */
public final class KubeElection implements BooleanSupplier, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(KubeElection.class.getName());

  static final String LEASES = "leases.coordination.k8s.io";
  static final String VERBS = "get, create and update";

  /** The one Lease, read and written; a write that loses a race fails with a 409. */
  interface Leases {
    Lease get();

    void create(Lease lease);

    void update(Lease lease);

    static Leases of(KubernetesClient client, String namespace, String name) {
      NonNamespaceOperation<Lease, LeaseList, Resource<Lease>> there =
          client.leases().inNamespace(namespace);
      return new Leases() {
        @Override
        public Lease get() {
          return there.withName(name).get();
        }

        @Override
        public void create(Lease lease) {
          there.resource(lease).create();
        }

        @Override
        public void update(Lease lease) {
          there.resource(lease).update();
        }
      };
    }
  }

  private final Leases leases;
  private final LongSupplier nanoTime;
  private final String namespace;
  private final String name;
  private final String identity;
  private final Duration lease;
  private final Duration renewDeadline;
  private final Duration retry;
  private final KubeRoster.Observer observer;
  private final String server;
  private volatile boolean leader;
  private volatile boolean closed;
  private Thread thread;
  // the election's own state, under this object's lock
  private String seenVersion;
  private long seenAtNanos;
  private String seenHolder;
  private long renewedAtNanos;
  private String problem;

  public KubeElection(
      KubernetesClient client,
      String namespace,
      String name,
      String identity,
      Duration lease,
      Duration renewDeadline,
      Duration retry,
      KubeRoster.Observer observer) {
    this(
        Leases.of(client, namespace, name),
        client.getConfiguration().getMasterUrl(),
        namespace,
        name,
        identity,
        lease,
        renewDeadline,
        retry,
        observer,
        System::nanoTime);
  }

  KubeElection(
      Leases leases,
      String server,
      String namespace,
      String name,
      String identity,
      Duration lease,
      Duration renewDeadline,
      Duration retry,
      KubeRoster.Observer observer,
      LongSupplier nanoTime) {
    if (renewDeadline.compareTo(lease) >= 0) {
      throw new IllegalArgumentException("the renew deadline must be shorter than the lease");
    }
    this.leases = leases;
    this.nanoTime = nanoTime;
    this.namespace = namespace;
    this.name = name;
    this.identity = identity;
    this.lease = lease;
    this.renewDeadline = renewDeadline;
    this.retry = retry;
    this.observer = observer;
    this.server = server;
  }

  /**
   * This replica's name in the Lease: the pod's (or host's) name and a random suffix, so a pod
   * restarted under the same name does not take its predecessor's term for its own.
   */
  public static String identity() {
    String host = System.getenv("HOSTNAME");
    if (host == null || host.isBlank()) {
      try {
        host = java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.net.UnknownHostException e) {
        host = "dynamo-metrics";
      }
    }
    return host + "_" + Long.toHexString(new java.security.SecureRandom().nextInt() & 0xffffffffL);
  }

  /** Where the Lease is, for the log: {@code namespace/name}. */
  public String lease() {
    return namespace + "/" + name;
  }

  /**
   * Campaigns once, then goes on in the background.
   *
   * @throws IllegalStateException naming what to grant, when the API server refuses the service's
   *     account the Lease (a mistake in the set-up, not a passing failure)
   */
  public synchronized void start() {
    try {
      leases.get();
    } catch (KubernetesClientException e) {
      ApiFailure f = ApiFailure.of(e, VERBS, LEASES, namespace, server);
      if (f.reason().equals("forbidden") || f.reason().equals("unauthorized")) {
        throw new IllegalStateException("the leader election cannot use its Lease: " + f.message());
      }
    }
    campaign();
    thread = Thread.ofPlatform().daemon().name("kube-election").start(this::run);
  }

  private void run() {
    while (!closed) {
      try {
        Thread.sleep(retry);
      } catch (InterruptedException e) {
        return;
      }
      if (!closed) {
        campaign();
      }
    }
  }

  /** One round: create, renew or take over the Lease, or note who holds it. */
  synchronized void campaign() {
    if (closed) {
      return;
    }
    long now = nanoTime.getAsLong();
    try {
      Lease current = leases.get();
      if (current == null) {
        write(null, 0);
      } else {
        LeaseSpec spec = current.getSpec() == null ? new LeaseSpec() : current.getSpec();
        String holder = spec.getHolderIdentity();
        String version = current.getMetadata().getResourceVersion();
        if (!Objects.equals(version, seenVersion)) {
          seenVersion = version;
          seenAtNanos = now;
        }
        Duration held =
            spec.getLeaseDurationSeconds() == null
                ? lease
                : Duration.ofSeconds(spec.getLeaseDurationSeconds());
        int transitions = spec.getLeaseTransitions() == null ? 0 : spec.getLeaseTransitions();
        if (identity.equals(holder)) {
          write(current, transitions);
        } else if (holder == null || holder.isEmpty() || now - seenAtNanos >= held.toNanos()) {
          write(current, transitions + 1);
        } else {
          standBy(holder);
        }
      }
      if (problem != null) {
        problem = null;
        LOG.info("the Lease " + lease() + " answers again");
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) { // 409: another replica wrote first; the next round sees it
        failed(e);
      }
    }
    if (leader && now - renewedAtNanos > renewDeadline.toNanos()) {
      stepDown("the Lease was not renewed for " + renewDeadline.toSeconds() + " s");
    }
  }

  /** Writes the Lease as held by this replica (created, renewed, or taken over). */
  private void write(Lease current, int transitions) {
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    boolean renewing = current != null && leader && identity.equals(holderOf(current));
    LeaseSpec spec = new LeaseSpec();
    spec.setHolderIdentity(identity);
    spec.setLeaseDurationSeconds((int) lease.toSeconds());
    spec.setAcquireTime(
        renewing && current.getSpec().getAcquireTime() != null
            ? current.getSpec().getAcquireTime()
            : now);
    spec.setRenewTime(now);
    spec.setLeaseTransitions(transitions);
    Lease next = new Lease();
    next.setSpec(spec);
    if (current == null) {
      next.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
      leases.create(next);
    } else {
      next.setMetadata(current.getMetadata()); // its resourceVersion: a conflict fails with 409
      leases.update(next);
    }
    renewedAtNanos = nanoTime.getAsLong();
    if (!leader) {
      leader = true;
      seenHolder = identity;
      Log.log(
          LOG,
          Level.INFO,
          "leading: holds the Lease " + lease() + " as " + identity,
          Field.of("lease", lease()),
          Field.of("holder", identity));
    }
  }

  private static String holderOf(Lease l) {
    return l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }

  private void standBy(String holder) {
    if (leader) {
      stepDown(holder + " holds the Lease now");
    }
    if (!holder.equals(seenHolder)) {
      seenHolder = holder;
      Log.log(
          LOG,
          Level.INFO,
          "standing by: "
              + holder
              + " holds the Lease "
              + lease()
              + "; taking over when it stops renewing",
          Field.of("lease", lease()),
          Field.of("holder", holder));
    }
  }

  private void stepDown(String why) {
    leader = false;
    seenHolder = null;
    Log.log(
        LOG,
        Level.WARNING,
        "stopped leading: " + why + "; campaigning again",
        Field.of("lease", lease()),
        Field.of("reason", why));
  }

  private void failed(KubernetesClientException e) {
    ApiFailure f = ApiFailure.of(e, VERBS, LEASES, namespace, server);
    observer.watchFailed(LEASES, f.reason());
    if (!f.message().equals(problem)) {
      problem = f.message();
      Log.log(
          LOG,
          Level.WARNING,
          "cannot use the Lease " + lease() + ": " + f.message() + "; retrying",
          Field.of("lease", lease()),
          Field.of("reason", f.reason()));
    }
  }

  /** Whether this replica leads now. */
  @Override
  public boolean getAsBoolean() {
    return leader;
  }

  /** Gives the Lease up, so a standby takes over at its next round instead of after the lease. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    if (t != null) {
      t.interrupt();
    }
    synchronized (this) {
      if (!leader) {
        return;
      }
      leader = false;
      try {
        Lease current = leases.get();
        if (current != null && identity.equals(holderOf(current))) {
          current.getSpec().setHolderIdentity(null);
          current.getSpec().setLeaseDurationSeconds(1);
          current.getSpec().setRenewTime(ZonedDateTime.now(ZoneOffset.UTC));
          leases.update(current);
          LOG.info("gave up the Lease " + lease());
        }
      } catch (KubernetesClientException e) {
        LOG.warning(
            "could not give up the Lease "
                + lease()
                + " (a standby takes over once it expires, in "
                + lease.toSeconds()
                + " s): "
                + ApiFailure.of(e, VERBS, LEASES, namespace, server).message());
      }
    }
  }
}
