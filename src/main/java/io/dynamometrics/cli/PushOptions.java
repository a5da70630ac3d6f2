package io.dynamometrics.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Push mode, as Dynamo's {@code --push}, plus what it lacked. */
final class PushOptions {
  @Option(
      names = "--push",
      description = "Also push every series to a Prometheus Pushgateway (pull keeps working).")
  boolean enabled;

  @Option(
      names = "--push-url",
      defaultValue = "http://localhost:9091",
      paramLabel = "URL",
      description =
          "Pushgateway base URL (default: ${DEFAULT-VALUE}, as Dynamo; mind --port when both run on one host).")
  String url;

  @Option(
      names = "--push-interval",
      defaultValue = "2",
      paramLabel = "SECONDS",
      description = "Seconds between pushes, at least 0.1 (default: ${DEFAULT-VALUE}).")
  double intervalSeconds;

  @Option(
      names = "--push-job",
      defaultValue = "dynamo_push_metrics",
      paramLabel = "JOB",
      description = "Pushgateway job (default: ${DEFAULT-VALUE}).")
  String job;

  @Option(
      names = "--push-instance",
      paramLabel = "NAME",
      description = "Value of the grouping key 'instance' (default: this host's name).")
  String instanceName;

  @Option(
      names = "--push-keep-on-exit",
      description =
          "Keep the pushed group on the gateway at shutdown (default: delete it, so no stale fleet remains).")
  boolean keepOnExit;

  void validate() {
    if (!enabled) {
      return;
    }
    if (!(intervalSeconds >= 0.1) || intervalSeconds > 3600) {
      throw new UserError(
          "--push-interval must be between 0.1 and 3600 seconds, got " + intervalSeconds);
    }
    try {
      URI u = URI.create(url);
      if (u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      throw new UserError("--push-url '" + url + "' must look like http://host:9091");
    }
    if (job.isBlank() || (instanceName != null && instanceName.isBlank())) {
      throw new UserError("--push-job and --push-instance must not be empty");
    }
  }

  Duration interval() {
    return Duration.ofMillis(Math.round(intervalSeconds * 1000));
  }

  String instance() {
    if (instanceName != null) {
      return instanceName;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "dynamo-metrics";
    }
  }
}
