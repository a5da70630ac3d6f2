package io.dynamometrics.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamometrics.etcd.Election;
import io.dynamometrics.etcd.EtcdClient;
import io.dynamometrics.etcd.EtcdRoster;
import io.dynamometrics.k8s.KubeElection;
import io.dynamometrics.poll.WorkerRegistry;
import io.dynamometrics.transport.NatsTransport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The default command: aggregate a Dynamo fleet from NATS and serve it to Prometheus. */
@Command(
    name = "dynamo-metrics",
    mixinStandardHelpOptions = true,
    versionProvider = AggregateCommand.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    subcommands = {DemoCommand.class, MockWorkerCommand.class},
    description =
        "Reads every Dynamo worker's load over NATS, polled ($SRV.STATS, Dynamo 0.1.1 to 0.6.0) and "
            + "pushed (kv_metrics and forward-pass metrics, JSON or msgpack, 0.4.1 to 1.6.1), counts "
            + "KV hit-rate events, aggregates across workers and serves Prometheus metrics on "
            + "/metrics, with /healthz and /readyz. One command line for every release: with --etcd "
            + "workers are known from their instance keys (every layout), and a worker that only "
            + "pushes lives exactly as long as its key; with --discovery kubernetes (Dynamo's "
            + "operator) from their DynamoWorkerMetadata resources while their pods are ready; "
            + "without either, see --pushed-load-expiry.%n")
final class AggregateCommand implements Callable<Integer> {
  @Mixin PollOptions poll;
  @Mixin ServeOptions serve;
  @Mixin NatsOptions nats;
  @Mixin PushOptions push;
  @Mixin EtcdOptions etcd;
  @Mixin DiscoveryOptions discovery;
  @Mixin GpuOptions gpu;

  @picocli.CommandLine.Option(
      names = "--standby",
      description =
          "Run as one of several replicas, one leading: with --etcd, when another aggregator holds the "
              + "singleton key, wait and take over when it goes (instead of exiting); with --discovery "
              + "kubernetes, the replicas share a Lease (--kube-lease) and a standby takes over when "
              + "the leader stops renewing it. A standby exports only its own health and "
              + "dynamo_metrics_leader 0.")
  boolean standby;

  @Mixin LogOptions log;

  /**
   * Dynamo's ZMQ broker mode is refused rather than half supported: no Dynamo release on PyPI ships
   * the broker, so reading through one could never be tried against the real thing.
   */
  static void refuseZmqBroker(java.util.Map<String, String> env) {
    for (String name : new String[] {"DYN_ZMQ_BROKER_URL", "DYN_ZMQ_BROKER_ENABLED"}) {
      String value = env.get(name);
      if (value != null && !value.isBlank() && !value.equalsIgnoreCase("false")) {
        throw new UserError(
            name
                + "="
                + value
                + ": reading Dynamo's event plane through a ZMQ broker is not supported; unset it."
                + " The service connects to every worker's own publisher, as etcd advertises it"
                + " (workers in broker mode advertise none: run them without DYN_ZMQ_BROKER_URL,"
                + " or with DYN_EVENT_PLANE=nats)");
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    log.apply();
    serve.validate();
    poll.validate();
    push.validate();
    refuseZmqBroker(System.getenv());
    DiscoveryOptions.Backend backend = discovery.backend(etcd.enabled, System.getenv());
    etcd.enabled = backend == DiscoveryOptions.Backend.ETCD;
    if (standby && backend == null) {
      throw new UserError(
          "--standby needs --etcd or --discovery kubernetes: without either there is nothing to"
              + " stand by for");
    }
    discovery.checkLease(standby, backend);
    Service service = new Service(serve, poll);
    NatsTransport transport;
    try {
      service.gpu(gpu, poll.interval());
      transport = nats.open();
    } catch (RuntimeException e) {
      service.close();
      throw e;
    }
    try {
      Election election = null;
      KubeElection kubeElection = null;
      WorkerRegistry registrations = null;
      if (etcd.enabled) {
        EtcdClient client = etcd.client();
        String value =
            new ObjectMapper()
                .createObjectNode()
                .put("component_name", poll.component)
                .put("endpoint_name", poll.endpoint)
                .toString();
        election =
            new Election(
                client,
                etcd.claimKey(poll.namespace),
                value,
                Duration.ofSeconds(10),
                Duration.ofSeconds(5),
                Duration.ofSeconds(1));
        try {
          election.start(standby);
        } catch (Election.HeldElsewhere e) {
          throw new UserError(e.getMessage());
        } catch (IOException e) { // its message names the etcd endpoint and what went wrong
          throw new UserError(e.getMessage());
        }
        registrations = new EtcdRoster(client, poll.namespace);
      } else if (backend == DiscoveryOptions.Backend.KUBERNETES) {
        KubernetesClient client = discovery.client(System.getenv());
        List<String> namespaces = discovery.namespaces(client);
        registrations = service.kubernetes(client, poll.namespace, namespaces);
        if (standby) {
          kubeElection =
              service.kubeElection(
                  client, DiscoveryOptions.ownNamespace(client), discovery.lease(poll.namespace));
          try {
            kubeElection.start();
          } catch (IllegalStateException e) { // the Lease refused: its message says what to grant
            throw new UserError(e.getMessage());
          }
        }
      }
      java.util.function.BooleanSupplier leads =
          election != null ? election : kubeElection != null ? kubeElection : () -> true;
      service.start(transport, poll, leads, registrations);
      if (push.enabled) {
        service.push(push);
      }
      if (election != null) {
        service.own(election); // closed first: a standby can take over while we stop
      }
      if (kubeElection != null) {
        service.own(kubeElection); // as the etcd election
      }
      Logger.getLogger(AggregateCommand.class.getName())
          .info(
              "serving http://"
                  + serve.host
                  + ":"
                  + service.port()
                  + "/ (dashboard), /metrics, /api/v1/fleet");
      awaitShutdown();
    } finally {
      service.close(); // stop polling first, then drain and close NATS
      transport.close();
    }
    return 0;
  }

  /**
   * Blocks until SIGINT or SIGTERM; the try-with-resources above then stops everything in order.
   */
  static void awaitShutdown() throws InterruptedException {
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    Thread main = Thread.currentThread();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stop.countDown();
                  try {
                    done.await(Duration.ofSeconds(5).toMillis(), TimeUnit.MILLISECONDS);
                  } catch (InterruptedException ignored) {
                    // exiting anyway
                  }
                },
                "shutdown"));
    try {
      stop.await();
      Logger.getLogger(AggregateCommand.class.getName()).info("stopping (SIGTERM or SIGINT)");
    } finally {
      // The caller stops everything when this returns; let the hook return right after that.
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try {
                  main.join(4500);
                } catch (InterruptedException ignored) {
                  // exiting anyway
                }
                done.countDown();
              });
    }
  }

  static final class Version implements picocli.CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"dynamo-metrics " + Main.version()};
    }
  }
}
