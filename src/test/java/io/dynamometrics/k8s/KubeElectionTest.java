package io.dynamometrics.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The election's rules on an injected clock, against a Lease kept in memory as the API server keeps
 * it (a version per write, a 409 for a write made on an older version or a second create).
 */
class KubeElectionTest {
  private static final Duration LEASE = Duration.ofSeconds(15);
  private static final Duration RENEW = Duration.ofSeconds(10);

  /** One Lease with the API server's optimistic concurrency; {@code down} fails every request. */
  static final class Store implements KubeElection.Leases {
    private Lease lease;
    private long version;
    boolean down;
    Runnable beforeNextCreate;

    private void reachable() {
      if (down) {
        throw new KubernetesClientException(
            "Operation failed", new java.net.ConnectException("Connection refused"));
      }
    }

    private static KubernetesClientException conflict() {
      return new KubernetesClientException(new StatusBuilder().withCode(409).build());
    }

    @Override
    public synchronized Lease get() {
      reachable();
      return lease == null ? null : Serialization.clone(lease);
    }

    @Override
    public synchronized void create(Lease l) {
      reachable();
      Runnable before = beforeNextCreate;
      beforeNextCreate = null;
      if (before != null) {
        before.run();
      }
      if (lease != null) {
        throw conflict();
      }
      put(l);
    }

    @Override
    public synchronized void update(Lease l) {
      reachable();
      if (lease == null
          || !lease
              .getMetadata()
              .getResourceVersion()
              .equals(l.getMetadata().getResourceVersion())) {
        throw conflict();
      }
      put(l);
    }

    private void put(Lease l) {
      Lease stored = Serialization.clone(l);
      stored.getMetadata().setResourceVersion(Long.toString(++version));
      lease = stored;
    }

    synchronized Lease lease() {
      return lease;
    }
  }

  private final Store store = new Store();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<String> failures = new ArrayList<>();

  private KubeElection replica(String id) {
    return new KubeElection(
        store,
        "https://127.0.0.1:6443/",
        "monitoring",
        "dm",
        id,
        LEASE,
        RENEW,
        Duration.ofSeconds(2),
        (resource, reason) -> failures.add(resource + " " + reason),
        now::get);
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void theFirstLeadsTheSecondStandsByAndACleanStopHandsOverAtOnce() {
    KubeElection a = replica("a");
    KubeElection b = replica("b");
    a.campaign();
    b.campaign();
    assertThat(a.getAsBoolean()).isTrue();
    assertThat(b.getAsBoolean()).isFalse();
    assertThat(store.lease().getSpec().getHolderIdentity()).isEqualTo("a");
    assertThat(store.lease().getSpec().getLeaseDurationSeconds()).isEqualTo(15);

    a.close();
    assertThat(a.getAsBoolean()).isFalse();
    assertThat(store.lease().getSpec().getHolderIdentity()).isNull();
    b.campaign(); // no time passed: a gave the Lease up
    assertThat(b.getAsBoolean()).isTrue();
    assertThat(store.lease().getSpec().getHolderIdentity()).isEqualTo("b");
    assertThat(store.lease().getSpec().getLeaseTransitions()).isEqualTo(1);
  }

  @Test
  void aLeaderThatStopsRenewingIsTakenOverOnlyOnceTheLeaseRanOut() {
    KubeElection a = replica("a");
    KubeElection b = replica("b");
    a.campaign();
    b.campaign();
    for (int i = 0; i < 5; i++) { // a renews, b sees the Lease change each round
      advance(Duration.ofSeconds(2));
      a.campaign();
      b.campaign();
      assertThat(b.getAsBoolean()).isFalse();
    }
    // a crashed: b waits the Lease's 15 s from the last change it saw
    advance(Duration.ofSeconds(14));
    b.campaign();
    assertThat(b.getAsBoolean()).isFalse();
    advance(Duration.ofSeconds(1));
    b.campaign();
    assertThat(b.getAsBoolean()).isTrue();
    assertThat(store.lease().getSpec().getLeaseTransitions()).isEqualTo(1);
    // a comes back: it sees b hold the Lease and does not take it back
    a.campaign();
    assertThat(a.getAsBoolean()).isFalse();
    assertThat(store.lease().getSpec().getHolderIdentity()).isEqualTo("b");
  }

  @Test
  void theHoldersClockDoesNotMatterOnlyThatTheLeaseKeepsChanging() {
    KubeElection b = replica("b");
    for (int i = 0; i < 20; i++) {
      // another replica renews every 2 s, its clock an hour behind ours
      Lease l = store.lease() == null ? new Lease() : store.get();
      if (l.getMetadata() == null) {
        l.setMetadata(new ObjectMetaBuilder().withName("dm").build());
      }
      l.setSpec(new LeaseSpec());
      l.getSpec().setHolderIdentity("old-clock");
      l.getSpec().setLeaseDurationSeconds(15);
      l.getSpec().setRenewTime(ZonedDateTime.now(ZoneOffset.UTC).minusHours(1));
      if (store.lease() == null) {
        store.create(l);
      } else {
        store.update(l);
      }
      b.campaign();
      assertThat(b.getAsBoolean()).isFalse();
      advance(Duration.ofSeconds(2));
    }
  }

  @Test
  void aLeaderThatCannotRenewStopsLeadingBeforeAStandbyCouldTakeOver() {
    KubeElection a = replica("a");
    a.campaign();
    assertThat(a.getAsBoolean()).isTrue();
    store.down = true;
    for (int s = 2; s <= 8; s += 2) {
      advance(Duration.ofSeconds(2));
      a.campaign();
      assertThat(a.getAsBoolean()).as("after %d s", s).isTrue();
    }
    advance(Duration.ofSeconds(3)); // 11 s without a renewal: past the deadline, short of 15
    a.campaign();
    assertThat(a.getAsBoolean()).isFalse();
    assertThat(failures).isNotEmpty().allMatch(f -> f.equals(KubeElection.LEASES + " unreachable"));
    // the API server is back: a still holds the Lease, and leads again
    store.down = false;
    advance(Duration.ofSeconds(2));
    a.campaign();
    assertThat(a.getAsBoolean()).isTrue();
    assertThat(store.lease().getSpec().getLeaseTransitions()).isZero();
  }

  @Test
  void twoStandbysRacingForAGivenUpLeaseLeaveOneLeader() {
    KubeElection a = replica("a");
    a.campaign();
    KubeElection b = replica("b");
    KubeElection c = replica("c");
    b.campaign();
    c.campaign();
    a.close();
    // b and c read the same version; the one that writes second gets a 409
    b.campaign();
    c.campaign();
    assertThat(List.of(b.getAsBoolean(), c.getAsBoolean())).containsExactlyInAnyOrder(true, false);
    assertThat(failures).as("a lost race is no failure").isEmpty();
  }

  @Test
  void aReplicaWhoseCreateLosesTheRaceStandsBy() {
    KubeElection a = replica("a");
    // b's create lands between a's read (no Lease yet) and a's create
    Lease byB = new Lease();
    byB.setMetadata(new ObjectMetaBuilder().withName("dm").build());
    byB.setSpec(new LeaseSpec());
    byB.getSpec().setHolderIdentity("b");
    byB.getSpec().setLeaseDurationSeconds(15);
    store.beforeNextCreate = () -> store.create(byB);
    a.campaign();
    assertThat(a.getAsBoolean()).isFalse();
    assertThat(store.lease().getSpec().getHolderIdentity()).isEqualTo("b");
    assertThat(failures).as("a lost race is no failure").isEmpty();
  }
}
