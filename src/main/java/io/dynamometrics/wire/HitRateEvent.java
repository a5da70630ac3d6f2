package io.dynamometrics.wire;

/**
 * A KV router's routing decision: of {@code islBlocks} input blocks, {@code overlapBlocks} were
 * cached.
 */
public record HitRateEvent(long workerId, long islBlocks, long overlapBlocks) {}
