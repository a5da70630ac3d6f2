package io.dynamometrics.cli;

import io.dynamometrics.etcd.EtcdLeases;
import io.dynamometrics.sim.LeaseSource;
import io.dynamometrics.sim.SimFleet;
import io.dynamometrics.sim.WireGeneration;
import io.dynamometrics.transport.NatsTransport;
import io.dynamometrics.wire.Subjects;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Simulated Dynamo workers on a real NATS server, for demos, tests and benchmarks. */
@Command(
    name = "mock-worker",
    mixinStandardHelpOptions = true,
    versionProvider = AggregateCommand.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description =
        "Runs simulated Dynamo workers, each with its own lease id: of a release that answers stats "
            + "(--wire g1, g2, g3), a NATS micro service instance answering $SRV.PING, $SRV.INFO and "
            + "$SRV.STATS in its JSON; of a later one, a worker that pushes its load once a second in "
            + "that release's encoding. Load evolves plausibly (requests arrive, hold KV blocks, "
            + "finish, queue when slots are full) and each routed request publishes a KV hit-rate "
            + "event for the worker, as that release's router does (none from 1.x).%n")
final class MockWorkerCommand implements Callable<Integer> {
  private static final Logger LOG = Logger.getLogger(MockWorkerCommand.class.getName());

  @Option(
      names = "--namespace",
      defaultValue = "${env:DYN_NAMESPACE:-dynamo}",
      paramLabel = "NS",
      description = "Dynamo namespace (env DYN_NAMESPACE; default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = "--component",
      defaultValue = "MyComponent",
      paramLabel = "NAME",
      description = "Component name (default: ${DEFAULT-VALUE}).")
  String component;

  @Option(
      names = "--endpoint",
      defaultValue = "my_endpoint",
      paramLabel = "NAME",
      description = "Endpoint that reports load metrics (default: ${DEFAULT-VALUE}).")
  String endpoint;

  @Option(
      names = "--workers",
      defaultValue = "1",
      paramLabel = "N",
      description = "Simulated workers, each with its own lease id (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--wire",
      defaultValue = "g3",
      paramLabel = "GEN",
      description =
          "Dynamo release to imitate: g1 (0.1.1-0.2.0: hashed names, flat metrics), g2 "
              + "(0.2.1-0.3.1: plain names, flat), g3 (0.3.2-0.6.0: nested metrics) answer "
              + "$SRV.STATS; push-json (0.6.1-0.7.x), active-load (0.8.x), envelope (0.9-1.3: "
              + "msgpack) and envelope-endpoint (1.4 on: endpoint-scoped subject) push their load "
              + "once a second and, with --etcd, register under v1/instances/ "
              + "(default: ${DEFAULT-VALUE}).")
  String wire;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "Random seed, for a reproducible load (default: random).")
  Long seed;

  @Option(
      names = "--events-per-second",
      defaultValue = "2",
      paramLabel = "R",
      description =
          "Mean requests routed to each worker per second, each publishing one hit-rate event "
              + "(traffic waves and one hot worker vary it) (default: ${DEFAULT-VALUE}).")
  double eventsPerSecond;

  @Option(
      names = "--churn",
      defaultValue = "0",
      paramLabel = "SECONDS",
      description =
          "Every this many seconds one worker leaves and a new one joins (decimals allowed); 0 keeps the fleet fixed (default: ${DEFAULT-VALUE}).")
  double churn;

  @Mixin NatsOptions nats;
  @Mixin EtcdOptions etcd;
  @Mixin LogOptions log;

  @Override
  public Integer call() throws Exception {
    log.apply();
    if (workers < 1 || workers > 100_000) {
      throw new UserError("--workers must be between 1 and 100000, got " + workers);
    }
    if (!(eventsPerSecond >= 0) || eventsPerSecond > 100_000) {
      throw new UserError(
          "--events-per-second must be between 0 and 100000, got " + eventsPerSecond);
    }
    if (!(churn >= 0) || churn > 86_400) {
      throw new UserError("--churn must be between 0 and 86400 seconds, got " + churn);
    }
    WireGeneration gen;
    try {
      gen = WireGeneration.parse(wire);
    } catch (IllegalArgumentException e) {
      throw new UserError("--wire: " + e.getMessage());
    }
    long s = seed != null ? seed : System.nanoTime();
    EtcdLeases etcdLeases = null;
    if (etcd.enabled) {
      etcdLeases =
          new EtcdLeases(
              etcd.client(), etcd.layout(), gen.pushes(), namespace, component, endpoint);
    }
    NatsTransport transport = nats.open();
    SimFleet fleet =
        new SimFleet(
            transport,
            new SimFleet.Config(
                namespace,
                component,
                endpoint,
                workers,
                gen,
                s,
                eventsPerSecond,
                Duration.ofMillis(Math.round(churn * 1000))),
            etcdLeases == null
                ? null
                : registered(etcdLeases, gen.serviceName(namespace, component)));
    try {
      try {
        fleet.start();
      } catch (IOException e) {
        throw new UserError("cannot register workers in etcd: " + e.getMessage());
      }
      LOG.info(
          workers
              + " simulated "
              + gen
              + " worker(s) of "
              + namespace
              + "/"
              + component
              + "/"
              + endpoint
              + " on "
              + nats.url
              + " (seed "
              + s
              + "), leases "
              + summarize(fleet));
      AggregateCommand.awaitShutdown();
    } finally {
      fleet.close();
      if (etcdLeases != null) {
        etcdLeases.close();
      }
      transport.close();
    }
    return 0;
  }

  /**
   * Lease ids from etcd, each registered under the worker's endpoint subject, as Dynamo workers do.
   */
  private LeaseSource registered(EtcdLeases leases, String service) {
    return new LeaseSource() {
      @Override
      public long acquire() throws IOException {
        return leases.acquire(
            Subjects.endpoint(service, endpoint, 0).replaceAll("-0$", "-{lease}"));
      }

      @Override
      public void release(long lease) {
        leases.release(lease);
      }
    };
  }

  private static String summarize(SimFleet fleet) {
    var leases = fleet.leases();
    var shown = leases.stream().limit(5).map(Long::toHexString).toList();
    return String.join(", ", shown) + (leases.size() > 5 ? ", ..." : "");
  }
}
