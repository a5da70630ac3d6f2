package io.dynamometrics.sim;

import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.HitRateEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The load of one simulated LLM worker, advanced in small time steps. Requests arrive (Poisson),
 * take a request slot and KV blocks for their prompt, grow by a block every 16 generated tokens,
 * and release everything when done; with no free slot or no room in the cache they wait. Prompts
 * share prefixes drawn from a Zipf-like catalogue, so the prefix-cache hit rate rises as the cache
 * warms. Deterministic for a given seed and sequence of steps. Not thread-safe: one ticker drives
 * it.
 */
public final class LoadModel {
  static final int BLOCK_TOKENS = 16;
  private static final double DECODE_TOKENS_PER_SECOND = 40;

  private static final class Request {
    final int promptTokens;
    final int outputTokens;
    double generated;

    Request(int promptTokens, int outputTokens) {
      this.promptTokens = promptTokens;
      this.outputTokens = outputTokens;
    }

    long blocks() {
      return (promptTokens + (long) generated + BLOCK_TOKENS - 1) / BLOCK_TOKENS;
    }
  }

  private final Random random;
  private final long workerId;
  private final int totalSlots;
  private final long totalBlocks;
  private final PrefixCatalogue catalogue;
  private final List<Request> active = new ArrayList<>();
  private final ArrayDeque<Request> waiting = new ArrayDeque<>();
  private double hitRate;

  public LoadModel(long workerId, long seed, int totalSlots, long totalBlocks) {
    this.workerId = workerId;
    this.random = new Random(seed);
    this.totalSlots = totalSlots;
    this.totalBlocks = totalBlocks;
    this.catalogue = new PrefixCatalogue(random, 400, 60);
  }

  /**
   * Advances the model by {@code dt} seconds with requests arriving at {@code ratePerSecond}.
   *
   * @param events receives one hit-rate event per arriving request, as a KV router would publish
   */
  public void step(double dt, double ratePerSecond, Consumer<HitRateEvent> events) {
    int arrivals = poisson(ratePerSecond * dt);
    for (int i = 0; i < arrivals; i++) {
      Request r =
          new Request(logNormalTokens(700, 0.9, 32, 16_000), logNormalTokens(220, 0.8, 8, 4_000));
      long isl = (r.promptTokens + BLOCK_TOKENS - 1L) / BLOCK_TOKENS;
      long overlap = Math.min(isl, catalogue.cachedBlocks(isl));
      hitRate = 0.95 * hitRate + 0.05 * (isl == 0 ? 0 : (double) overlap / isl);
      events.accept(new HitRateEvent(workerId, isl, overlap));
      waiting.add(r);
    }
    for (Iterator<Request> it = active.iterator(); it.hasNext(); ) {
      Request r = it.next();
      r.generated += DECODE_TOKENS_PER_SECOND * dt * (0.8 + 0.4 * random.nextDouble());
      if (r.generated >= r.outputTokens) {
        it.remove();
      }
    }
    long used = activeBlocks();
    while (!waiting.isEmpty()
        && active.size() < totalSlots
        && used + waiting.peek().blocks() <= totalBlocks) {
      Request r = waiting.poll();
      active.add(r);
      used += r.blocks();
    }
    catalogue.drift(dt);
  }

  private long activeBlocks() {
    long blocks = 0;
    for (Request r : active) {
      blocks += r.blocks();
    }
    return blocks;
  }

  /** The worker's stats-handler report now, with an optional data-parallel rank. */
  public ForwardPassMetrics metrics(int dpRank) {
    long blocks = Math.min(totalBlocks, activeBlocks());
    return new ForwardPassMetrics(
        active.size(),
        totalSlots,
        blocks,
        totalBlocks,
        waiting.size(),
        (double) blocks / totalBlocks,
        hitRate,
        dpRank);
  }

  private int poisson(double mean) {
    double limit = Math.exp(-mean);
    double p = random.nextDouble();
    int k = 0;
    while (p > limit && k < 1000) {
      p *= random.nextDouble();
      k++;
    }
    return k;
  }

  private int logNormalTokens(double median, double sigma, int min, int max) {
    double v = median * Math.exp(sigma * random.nextGaussian());
    return (int) Math.max(min, Math.min(max, v));
  }

  /**
   * Prompt prefixes with Zipf-like popularity and an LRU cache of the ones recently served. The
   * popularity ranking rotates slowly, so the hit rate dips when the catalogue shifts.
   */
  private static final class PrefixCatalogue {
    private final Random random;
    private final int size;
    private final int cacheSize;
    private final LinkedHashSet<Integer> cache = new LinkedHashSet<>();
    private final double[] cumulative;
    private double offset;

    PrefixCatalogue(Random random, int size, int cacheSize) {
      this.random = random;
      this.size = size;
      this.cacheSize = cacheSize;
      this.cumulative = new double[size];
      double sum = 0;
      for (int i = 0; i < size; i++) {
        sum += 1.0 / Math.pow(i + 1, 1.1);
        cumulative[i] = sum;
      }
      for (int i = 0; i < size; i++) {
        cumulative[i] /= sum;
      }
    }

    /** Draws a prefix for a prompt of {@code isl} blocks; returns how many blocks were cached. */
    long cachedBlocks(long isl) {
      int rank = Arrays.binarySearch(cumulative, random.nextDouble());
      rank = rank < 0 ? -rank - 1 : rank;
      int prefix = (int) ((rank + (long) offset) % size);
      boolean hit = cache.remove(prefix);
      cache.add(prefix);
      if (cache.size() > cacheSize) {
        cache.remove(cache.iterator().next());
      }
      return hit ? Math.round(isl * (0.5 + 0.4 * random.nextDouble())) : 0;
    }

    /** The popular prefixes move by one rank every 20 seconds. */
    void drift(double dt) {
      offset += dt / 20;
    }
  }
}
