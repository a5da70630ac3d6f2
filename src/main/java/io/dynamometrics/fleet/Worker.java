package io.dynamometrics.fleet;

import io.dynamometrics.wire.ForwardPassMetrics;

/**
 * A live worker as of one snapshot.
 *
 * @param ageSeconds seconds since its last good stats reply, at the time of the snapshot
 */
public record Worker(
    WorkerKey key, String subject, ForwardPassMetrics metrics, double ageSeconds) {}
