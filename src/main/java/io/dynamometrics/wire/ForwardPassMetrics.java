package io.dynamometrics.wire;

/**
 * One worker's load report (the {@code data} of its stats endpoint), in either wire form.
 *
 * @param dpRank the data-parallel rank, or {@link #NO_RANK} when the worker reports none
 * @param nested whether the worker sent the nested form ({@code worker_stats}/{@code kv_stats},
 *     Dynamo 0.3.2 and later), whose consumers read l2c in the same form
 */
public record ForwardPassMetrics(
    long requestActiveSlots,
    long requestTotalSlots,
    long kvActiveBlocks,
    long kvTotalBlocks,
    long numRequestsWaiting,
    double gpuCacheUsagePerc,
    double gpuPrefixCacheHitRate,
    int dpRank,
    boolean nested) {

  public static final int NO_RANK = -1;

  /** A report in the flat form. */
  public ForwardPassMetrics(
      long requestActiveSlots,
      long requestTotalSlots,
      long kvActiveBlocks,
      long kvTotalBlocks,
      long numRequestsWaiting,
      double gpuCacheUsagePerc,
      double gpuPrefixCacheHitRate,
      int dpRank) {
    this(
        requestActiveSlots,
        requestTotalSlots,
        kvActiveBlocks,
        kvTotalBlocks,
        numRequestsWaiting,
        gpuCacheUsagePerc,
        gpuPrefixCacheHitRate,
        dpRank,
        false);
  }

  public boolean hasRank() {
    return dpRank != NO_RANK;
  }
}
