package io.dynamometrics.fleet;

import io.dynamometrics.wire.ForwardPassMetrics;
import java.util.Collection;

/**
 * Fleet-wide figures over the live workers of one endpoint. "Load" is {@code kv_active_blocks}, as
 * in Dynamo. Ratios whose denominator is zero are {@code NaN} here and absent from every output.
 *
 * @param loadStd the population standard deviation (divide by n), as Dynamo computes it
 * @param imbalanceRatio max / mean load; {@code NaN} when the mean is 0
 */
public record Aggregates(
    int workers,
    double loadAvg,
    double loadStd,
    long loadMin,
    long loadMax,
    double imbalanceRatio,
    double kvUsageRatio,
    double slotsUsageRatio,
    long requestsWaiting) {

  /**
   * The aggregates of {@code metrics}, or {@code null} when there are none (never NaN averages).
   */
  public static Aggregates of(Collection<ForwardPassMetrics> metrics) {
    int n = metrics.size();
    if (n == 0) {
      return null;
    }
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    double sum = 0;
    double kvActive = 0;
    double kvTotal = 0;
    double slotsActive = 0;
    double slotsTotal = 0;
    long waiting = 0;
    for (ForwardPassMetrics m : metrics) {
      long load = m.kvActiveBlocks();
      min = Math.min(min, load);
      max = Math.max(max, load);
      sum += load;
      kvActive += load;
      kvTotal += m.kvTotalBlocks();
      slotsActive += m.requestActiveSlots();
      slotsTotal += m.requestTotalSlots();
      waiting += m.numRequestsWaiting();
    }
    double mean = sum / n;
    double squares = 0;
    for (ForwardPassMetrics m : metrics) {
      double d = m.kvActiveBlocks() - mean;
      squares += d * d;
    }
    return new Aggregates(
        n,
        mean,
        Math.sqrt(squares / n),
        min,
        max,
        ratio(max, mean),
        ratio(kvActive, kvTotal),
        ratio(slotsActive, slotsTotal),
        waiting);
  }

  private static double ratio(double num, double den) {
    return den == 0 ? Double.NaN : num / den;
  }
}
