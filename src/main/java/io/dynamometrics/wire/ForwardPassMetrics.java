package io.dynamometrics.wire;

/**
 * One worker's load report (the {@code data} of its stats endpoint), in either wire form.
 *
 * @param dpRank the data-parallel rank, or {@link #NO_RANK} when the worker reports none
 */
public record ForwardPassMetrics(
    long requestActiveSlots,
    long requestTotalSlots,
    long kvActiveBlocks,
    long kvTotalBlocks,
    long numRequestsWaiting,
    double gpuCacheUsagePerc,
    double gpuPrefixCacheHitRate,
    int dpRank) {

  public static final int NO_RANK = -1;

  public boolean hasRank() {
    return dpRank != NO_RANK;
  }
}
