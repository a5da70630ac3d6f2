package io.dynamometrics.fleet;

/**
 * How the last gather of one endpoint went.
 *
 * @param replies stats replies received (one per worker process)
 * @param durationSeconds from sending the request to finishing the gather
 * @param lingerSeconds from the last reply to finishing the gather (the whole gather when none
 *     came): near 0 when it ended with its last expected reply, the stall or timeout when it waited
 *     for workers that did not answer
 * @param completedAtMillis wall-clock time the gather finished
 */
public record PollHealth(
    int replies, double durationSeconds, double lingerSeconds, long completedAtMillis) {}
