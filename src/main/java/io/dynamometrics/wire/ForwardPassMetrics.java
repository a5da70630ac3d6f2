package io.dynamometrics.wire;

/**
 * One worker's load, as its release sends it: the {@code data} of its stats endpoint (every field),
 * or pushed load and capacity (Dynamo 0.8 on sends only some). A field the release does not send is
 * absent ({@link #has}), never 0: its value here is 0 and means nothing.
 *
 * @param dpRank the data-parallel rank, or {@link #NO_RANK} when the worker reports none
 * @param nested whether the worker sent the nested form ({@code worker_stats}/{@code kv_stats},
 *     Dynamo 0.3.2 and later), whose consumers read l2c in the same form
 * @param decodeBlocksActive {@code active_decode_blocks} of pushed load (Dynamo 1.1 on)
 * @param present which fields were sent: the bits of this class's constants
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
    boolean nested,
    long decodeBlocksActive,
    int present) {

  public static final int NO_RANK = -1;

  public static final int ACTIVE_SLOTS = 1;
  public static final int TOTAL_SLOTS = 1 << 1;
  public static final int KV_ACTIVE = 1 << 2;
  public static final int KV_TOTAL = 1 << 3;
  public static final int WAITING = 1 << 4;
  public static final int CACHE_USAGE = 1 << 5;
  public static final int HIT_RATE = 1 << 6;
  public static final int DECODE_BLOCKS = 1 << 7;

  /** The seven fields of a stats reply, all of which it always carries. */
  public static final int STATS = (1 << 7) - 1;

  /** A report with every stats field, in either form. */
  public ForwardPassMetrics(
      long requestActiveSlots,
      long requestTotalSlots,
      long kvActiveBlocks,
      long kvTotalBlocks,
      long numRequestsWaiting,
      double gpuCacheUsagePerc,
      double gpuPrefixCacheHitRate,
      int dpRank,
      boolean nested) {
    this(
        requestActiveSlots,
        requestTotalSlots,
        kvActiveBlocks,
        kvTotalBlocks,
        numRequestsWaiting,
        gpuCacheUsagePerc,
        gpuPrefixCacheHitRate,
        dpRank,
        nested,
        0,
        STATS);
  }

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

  /** Nothing known yet of the worker at {@code dpRank}: fields are added with {@link #with}. */
  public static ForwardPassMetrics none(int dpRank) {
    return new ForwardPassMetrics(0, 0, 0, 0, 0, 0, 0, dpRank, false, 0, 0);
  }

  public boolean hasRank() {
    return dpRank != NO_RANK;
  }

  /** Whether every field of {@code fields} (a constant or several or-ed) was sent. */
  public boolean has(int fields) {
    return (present & fields) == fields;
  }

  /** Whether this report carries every field of a stats reply. */
  public boolean complete() {
    return has(STATS);
  }

  /** A copy with the whole-number {@code field} (one constant) set to {@code value}. */
  public ForwardPassMetrics with(int field, long value) {
    return new ForwardPassMetrics(
        field == ACTIVE_SLOTS ? value : requestActiveSlots,
        field == TOTAL_SLOTS ? value : requestTotalSlots,
        field == KV_ACTIVE ? value : kvActiveBlocks,
        field == KV_TOTAL ? value : kvTotalBlocks,
        field == WAITING ? value : numRequestsWaiting,
        gpuCacheUsagePerc,
        gpuPrefixCacheHitRate,
        dpRank,
        nested,
        field == DECODE_BLOCKS ? value : decodeBlocksActive,
        present | field);
  }

  /**
   * The value of the whole-number {@code field} (one constant), or {@code NaN} when it was not
   * sent; the two fractions come back as sent.
   */
  public double value(int field) {
    if (!has(field)) {
      return Double.NaN;
    }
    return switch (field) {
      case ACTIVE_SLOTS -> requestActiveSlots;
      case TOTAL_SLOTS -> requestTotalSlots;
      case KV_ACTIVE -> kvActiveBlocks;
      case KV_TOTAL -> kvTotalBlocks;
      case WAITING -> numRequestsWaiting;
      case CACHE_USAGE -> gpuCacheUsagePerc;
      case HIT_RATE -> gpuPrefixCacheHitRate;
      case DECODE_BLOCKS -> decodeBlocksActive;
      default -> throw new IllegalArgumentException("not one field: " + field);
    };
  }
}
