package io.dynamometrics.fleet;

import java.util.List;

/**
 * The live workers of one endpoint and their aggregates, as of one poll.
 *
 * @param workers sorted by worker key
 * @param aggregates {@code null} when no worker is live
 * @param registered workers registered in etcd, or -1 without etcd discovery
 */
public record EndpointFleet(
    Target target, List<Worker> workers, Aggregates aggregates, PollHealth poll, int registered) {}
