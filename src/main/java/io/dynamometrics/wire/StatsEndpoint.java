package io.dynamometrics.wire;

/** One matching endpoint of a stats reply, decoded: which worker, and what it reported. */
public record StatsEndpoint(String subject, long workerId, ForwardPassMetrics metrics) {}
