package io.dynamometrics.fleet;

/**
 * How the last gather of one endpoint went.
 *
 * @param replies stats replies received (one per worker process)
 * @param durationSeconds from sending the request to finishing the gather
 * @param completedAtMillis wall-clock time the gather finished
 */
public record PollHealth(int replies, double durationSeconds, long completedAtMillis) {}
