package io.dynamometrics.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/** What to aggregate and how often: Dynamo's {@code metrics} flags. */
final class PollOptions {
  @Option(
      names = "--namespace",
      defaultValue = "${env:DYN_NAMESPACE:-dynamo}",
      paramLabel = "NS",
      description = "Dynamo namespace to aggregate (env DYN_NAMESPACE; default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = "--component",
      paramLabel = "NAME",
      description =
          "Component to aggregate, e.g. VllmWorker. Without it (or --endpoint), every component "
              + "and endpoint of the namespace that reports load metrics is discovered and aggregated apart.")
  String component;

  @Option(
      names = "--endpoint",
      paramLabel = "NAME",
      description =
          "Endpoint whose stats carry the load metrics, e.g. load_metrics. Matched exactly.")
  String endpoint;

  @Option(
      names = "--poll-interval",
      defaultValue = "1",
      paramLabel = "SECONDS",
      description =
          "Seconds between polls; decimals allowed, at least 0.1 (default: ${DEFAULT-VALUE}).")
  double pollInterval;

  @Option(
      names = "--scrape-timeout",
      defaultValue = "1",
      paramLabel = "SECONDS",
      description =
          "Upper bound of one gather of worker stats; a gather ends earlier once every "
              + "recently seen worker has answered (default: ${DEFAULT-VALUE}).")
  double scrapeTimeout;

  @Option(
      names = "--staleness",
      defaultValue = "3",
      paramLabel = "POLLS",
      description =
          "Polls a worker may miss before its series disappear (default: ${DEFAULT-VALUE}).")
  int staleness;

  @Option(
      names = "--max-workers",
      defaultValue = "10000",
      paramLabel = "N",
      description =
          "Most workers exported per component/endpoint; replies from more are counted in "
              + "dynamo_metrics_workers_over_limit_total, not exported (default: ${DEFAULT-VALUE}).")
  int maxWorkers = 10000;

  @Option(
      names = "--pushed-load-expiry",
      defaultValue = "60",
      paramLabel = "SECONDS",
      description =
          "Without --etcd: seconds a worker that only pushes its load (Dynamo 0.6.1 on) stays "
              + "after its last message. Dynamo sends no heartbeat, so an idle worker is silent "
              + "and leaves after this long; with --etcd a worker lives exactly as long as its "
              + "instance key (default: ${DEFAULT-VALUE}).")
  double pushExpiry = 60;

  Duration pushExpiry() {
    return seconds(pushExpiry);
  }

  Duration interval() {
    return seconds(pollInterval);
  }

  Duration timeout() {
    return seconds(scrapeTimeout);
  }

  void validate() {
    if (!(pollInterval >= 0.1) || pollInterval > 3600) {
      throw new UserError(
          "--poll-interval must be between 0.1 and 3600 seconds, got " + pollInterval);
    }
    if (!(pushExpiry >= 1) || pushExpiry > 86400) {
      throw new UserError(
          "--pushed-load-expiry must be between 1 and 86400 seconds, got " + pushExpiry);
    }
    if (!(scrapeTimeout >= 0.01) || scrapeTimeout > 60) {
      throw new UserError(
          "--scrape-timeout must be between 0.01 and 60 seconds, got " + scrapeTimeout);
    }
    if (maxWorkers < 1 || maxWorkers > 1_000_000) {
      throw new UserError("--max-workers must be between 1 and 1000000, got " + maxWorkers);
    }
    if (staleness < 1 || staleness > 1000) {
      throw new UserError("--staleness must be between 1 and 1000 polls, got " + staleness);
    }
    for (String[] name :
        new String[][] {
          {"--namespace", namespace}, {"--component", component}, {"--endpoint", endpoint}
        }) {
      if (name[1] != null
          && (name[1].isBlank()
              || name[1].chars().anyMatch(c -> c <= ' ' || c == '.' || c == '*' || c == '>'))) {
        throw new UserError(
            name[0]
                + " '"
                + name[1]
                + "' must be a non-empty name without spaces, '.', '*' or '>'");
      }
    }
  }

  private static Duration seconds(double s) {
    return Duration.ofNanos(Math.round(s * 1e9));
  }
}
