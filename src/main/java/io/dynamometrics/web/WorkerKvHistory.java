package io.dynamometrics.web;

import io.dynamometrics.fleet.EndpointFleet;
import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.fleet.Worker;
import io.dynamometrics.fleet.WorkerKey;
import io.dynamometrics.wire.ForwardPassMetrics;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Each live worker's KV usage over the last 15 minutes, for the dashboard's per-row strip: the
 * highest usage seen in each 15-second bucket, one byte a bucket (60 bytes a worker, about 600 KB
 * for 10,000 workers). A worker's history goes when it leaves the fleet. Written by the poll
 * thread, read by HTTP threads.
 */
public final class WorkerKvHistory implements Consumer<FleetSnapshot> {
  public static final int BUCKETS = 60;
  public static final long BUCKET_MILLIS = 15_000;

  /** One worker's buckets: 0 = no sample, 1..101 = usage percent + 1. */
  private static final class Ring {
    private final byte[] cells = new byte[BUCKETS];
    private long lastBucket = Long.MIN_VALUE;

    synchronized void record(long bucket, int percent) {
      if (lastBucket != Long.MIN_VALUE && bucket > lastBucket) {
        for (long b = lastBucket + 1; b <= bucket && b <= lastBucket + BUCKETS; b++) {
          cells[Math.floorMod(b, BUCKETS)] = 0;
        }
      }
      if (bucket >= lastBucket) {
        int i = Math.floorMod(bucket, BUCKETS);
        cells[i] = (byte) Math.max(cells[i], percent + 1);
        lastBucket = bucket;
      }
    }

    synchronized int[] read(long currentBucket) {
      int[] out = new int[BUCKETS];
      for (int i = 0; i < BUCKETS; i++) {
        long b = currentBucket - (BUCKETS - 1) + i;
        out[i] =
            b > lastBucket || b <= lastBucket - BUCKETS ? -1 : cells[Math.floorMod(b, BUCKETS)] - 1;
      }
      return out;
    }
  }

  private final Map<Target, Map<WorkerKey, Ring>> rings = new ConcurrentHashMap<>();

  @Override
  public void accept(FleetSnapshot snapshot) {
    long bucket = snapshot.takenAtMillis() / BUCKET_MILLIS;
    Set<Target> present = new HashSet<>();
    for (EndpointFleet e : snapshot.endpoints()) {
      present.add(e.target());
      Map<WorkerKey, Ring> workers =
          rings.computeIfAbsent(e.target(), t -> new ConcurrentHashMap<>());
      for (Worker w : e.workers()) {
        ForwardPassMetrics m = w.metrics();
        if (!m.has(ForwardPassMetrics.KV_ACTIVE | ForwardPassMetrics.KV_TOTAL)) {
          continue; // no KV figures from this release: no row to draw (a dash on the page)
        }
        int percent =
            m.kvTotalBlocks() == 0
                ? 0
                : (int) Math.min(100, Math.round(100.0 * m.kvActiveBlocks() / m.kvTotalBlocks()));
        workers.computeIfAbsent(w.key(), k -> new Ring()).record(bucket, percent);
      }
      // a worker that left the fleet leaves its history too: rows are shown for live workers only,
      // and under churn the history must not grow with every worker that ever came
      workers.keySet().retainAll(e.workers().stream().map(Worker::key).collect(Collectors.toSet()));
    }
    rings.keySet().retainAll(present);
  }

  /**
   * Every worker of {@code target} seen in the last 15 minutes: its buckets, oldest first, the last
   * one holding now; -1 where the worker sent nothing.
   */
  public Map<WorkerKey, int[]> read(Target target, long nowMillis) {
    Map<WorkerKey, int[]> out = new TreeMap<>();
    Map<WorkerKey, Ring> workers = rings.get(target);
    if (workers != null) {
      long bucket = nowMillis / BUCKET_MILLIS;
      workers.forEach(
          (k, r) -> {
            int[] cells = r.read(bucket);
            if (Arrays.stream(cells).anyMatch(c -> c >= 0)) {
              out.put(k, cells);
            }
          });
    }
    return out;
  }
}
