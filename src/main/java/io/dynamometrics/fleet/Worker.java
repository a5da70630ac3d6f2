package io.dynamometrics.fleet;

import io.dynamometrics.wire.ForwardPassMetrics;

/**
 * A live worker as of one snapshot.
 *
 * @param subject its stats subject, or an empty string for a worker that only pushes
 * @param metrics what it sent, with the capacity its model card states where it sent none
 * @param ageSeconds seconds since its last value, at the time of the snapshot
 * @param intakes the bits of the {@link Intake}s its values came by
 */
public record Worker(
    WorkerKey key, String subject, ForwardPassMetrics metrics, double ageSeconds, int intakes) {

  /** A worker known from stats replies only. */
  public Worker(WorkerKey key, String subject, ForwardPassMetrics metrics, double ageSeconds) {
    this(key, subject, metrics, ageSeconds, Intake.STATS.bit());
  }

  /** Its intakes by name, e.g. {@code stats+nats}. */
  public String intake() {
    return Intake.label(intakes);
  }
}
