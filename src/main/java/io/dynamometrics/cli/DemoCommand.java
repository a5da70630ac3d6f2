package io.dynamometrics.cli;

import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import io.dynamometrics.log.Logging;
import io.dynamometrics.net.Endpoints;
import io.dynamometrics.sim.SimFleet;
import io.dynamometrics.sim.WireGeneration;
import io.dynamometrics.transport.LocalTransport;
import io.dynamometrics.transport.Transport;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Everything in one process: simulated workers, the aggregator and the dashboard. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = AggregateCommand.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description =
        "Runs simulated Dynamo workers, the aggregator and the web dashboard in one process, over an "
            + "in-process bus carrying the same Dynamo JSON as NATS (or over a real NATS server with "
            + "--nats-server). Traffic comes in waves, one worker runs hot, workers leave and join, and "
            + "the prefix cache warms up. Open the printed URL; Ctrl-C stops it.%n")
final class DemoCommand implements Callable<Integer> {
  private static final Logger LOG = Logger.getLogger(DemoCommand.class.getName());

  @Mixin ServeOptions serve;
  @Mixin GpuOptions gpu;
  @Mixin LogOptions log;

  @Option(
      names = "--workers",
      defaultValue = "8",
      paramLabel = "N",
      description = "Simulated workers (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--poll-interval",
      defaultValue = "1",
      paramLabel = "SECONDS",
      description = "Seconds between polls, at least 0.1 (default: ${DEFAULT-VALUE}).")
  double pollInterval;

  @Option(
      names = "--churn",
      defaultValue = "120",
      paramLabel = "SECONDS",
      description =
          "Every this many seconds one worker leaves and a new one joins; 0 for a fixed fleet (default: ${DEFAULT-VALUE}).")
  double churn;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "Random seed, for a reproducible demo (default: random).")
  Long seed;

  @Option(
      names = "--wire",
      defaultValue = "g3",
      paramLabel = "GEN",
      description =
          "Dynamo release the simulated workers imitate, as mock-worker --wire: g1, g2, g3 answer "
              + "stats; push-json, active-load, envelope, envelope-endpoint push their load "
              + "(default: ${DEFAULT-VALUE}).")
  String wire;

  @Option(
      names = "--nats-server",
      paramLabel = "URL",
      description =
          "Run the simulated workers and the aggregator on this real NATS server instead of in process.")
  String natsServer;

  @Override
  public Integer call() throws Exception {
    log.apply();
    serve.validate();
    if (workers < 1 || workers > 10_000) {
      throw new UserError("--workers must be between 1 and 10000, got " + workers);
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
    PollOptions poll = new PollOptions();
    poll.namespace = "dynamo";
    poll.component = "VllmWorker";
    poll.endpoint = "load_metrics";
    poll.pollInterval = pollInterval;
    poll.scrapeTimeout = Math.min(1, pollInterval);
    poll.staleness = 3;
    // simulated workers push once a second and the demo has no etcd: one that left goes in 5 s
    poll.pushExpiry = 5;
    poll.validate();
    Service service = new Service(serve, poll);
    Transport transport;
    try {
      service.gpu(gpu, poll.interval());
      transport = natsServer == null ? new LocalTransport() : NatsConnect.open(natsServer);
    } catch (RuntimeException e) {
      service.close();
      throw e;
    }
    SimFleet fleet =
        new SimFleet(
            transport,
            new SimFleet.Config(
                poll.namespace,
                poll.component,
                poll.endpoint,
                workers,
                gen,
                seed != null ? seed : System.nanoTime(),
                2,
                Duration.ofMillis(Math.round(churn * 1000))));
    try {
      fleet.start();
      service.start(transport, poll);
      String host = serve.host.equals("0.0.0.0") ? "localhost" : serve.host;
      String base = "http://" + host + ":" + service.port();
      Log.log(
          LOG,
          Level.INFO,
          "demo running: "
              + workers
              + " simulated workers "
              + (natsServer == null ? "in process" : "on " + Endpoints.redacted(natsServer)),
          Field.of("workers", workers),
          Field.of("dashboard", base + "/"),
          Field.of("metrics", base + "/metrics"),
          Field.of("fleet_api", base + "/api/v1/fleet"));
      if (Logging.format() == Logging.Format.TEXT) { // JSON logs: the fields above say it
        System.out.println();
        System.out.println("  dashboard  " + base + "/");
        System.out.println("  metrics    " + base + "/metrics");
        System.out.println("  fleet API  " + base + "/api/v1/fleet");
        System.out.println("  Ctrl-C to stop");
        System.out.println();
      }
      AggregateCommand.awaitShutdown();
    } finally {
      service.close();
      fleet.close();
      transport.close();
    }
    return 0;
  }
}
