package io.dynamometrics.fleet;

import static io.dynamometrics.wire.ForwardPassMetrics.ACTIVE_SLOTS;
import static io.dynamometrics.wire.ForwardPassMetrics.KV_ACTIVE;
import static io.dynamometrics.wire.ForwardPassMetrics.KV_TOTAL;
import static io.dynamometrics.wire.ForwardPassMetrics.TOTAL_SLOTS;
import static io.dynamometrics.wire.ForwardPassMetrics.WAITING;

import io.dynamometrics.wire.ForwardPassMetrics;
import java.util.Collection;

/**
 * Fleet-wide figures over the live workers of one endpoint. "Load" is {@code kv_active_blocks}, as
 * in Dynamo. Each figure uses the workers that sent its fields (releases from 0.8 send fewer); a
 * figure no worker can feed, and a ratio whose denominator is zero, is {@code NaN} here and absent
 * from every output.
 *
 * @param workers live workers, whatever they sent
 * @param loadStd the population standard deviation (divide by n), as Dynamo computes it
 * @param imbalanceRatio max / mean load; {@code NaN} when the mean is 0
 */
public record Aggregates(
    int workers,
    double loadAvg,
    double loadStd,
    double loadMin,
    double loadMax,
    double imbalanceRatio,
    double kvUsageRatio,
    double slotsUsageRatio,
    double requestsWaiting) {

  /**
   * The aggregates of {@code metrics}, or {@code null} when there are none (never NaN averages).
   */
  public static Aggregates of(Collection<ForwardPassMetrics> metrics) {
    int n = metrics.size();
    if (n == 0) {
      return null;
    }
    int loaded = 0;
    double min = Double.NaN;
    double max = Double.NaN;
    double sum = 0;
    double kvActive = 0;
    double kvTotal = 0;
    double slotsActive = 0;
    double slotsTotal = 0;
    double waiting = Double.NaN;
    for (ForwardPassMetrics m : metrics) {
      if (m.has(KV_ACTIVE)) {
        long load = m.kvActiveBlocks();
        min = loaded == 0 ? load : Math.min(min, load);
        max = loaded == 0 ? load : Math.max(max, load);
        sum += load;
        loaded++;
      }
      if (m.has(KV_ACTIVE | KV_TOTAL)) {
        kvActive += m.kvActiveBlocks();
        kvTotal += m.kvTotalBlocks();
      }
      if (m.has(ACTIVE_SLOTS | TOTAL_SLOTS)) {
        slotsActive += m.requestActiveSlots();
        slotsTotal += m.requestTotalSlots();
      }
      if (m.has(WAITING)) {
        waiting = (Double.isNaN(waiting) ? 0 : waiting) + m.numRequestsWaiting();
      }
    }
    double mean = loaded == 0 ? Double.NaN : sum / loaded;
    double squares = 0;
    for (ForwardPassMetrics m : metrics) {
      if (m.has(KV_ACTIVE)) {
        double d = m.kvActiveBlocks() - mean;
        squares += d * d;
      }
    }
    return new Aggregates(
        n,
        mean,
        loaded == 0 ? Double.NaN : Math.sqrt(squares / loaded),
        min,
        max,
        ratio(max, mean),
        ratio(kvActive, kvTotal),
        ratio(slotsActive, slotsTotal),
        waiting);
  }

  private static double ratio(double num, double den) {
    return den == 0 || Double.isNaN(den) ? Double.NaN : num / den;
  }
}
