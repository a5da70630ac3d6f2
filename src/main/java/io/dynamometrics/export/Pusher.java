package io.dynamometrics.export;

import io.dynamometrics.log.Field;
import io.dynamometrics.log.Log;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Push mode: every interval, PUT the whole registry to the Pushgateway group {@code
 * job/{job}/instance/{instance}}. PUT replaces the group, so a departed worker is gone after the
 * next push. Runs on its own thread (a slow gateway never delays polling); failures back off
 * exponentially up to a minute, are counted, and are logged once per change of state. On close the
 * group is deleted unless asked to keep it.
 */
public final class Pusher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Pusher.class.getName());
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

  private final PrometheusRegistry registry;
  private final URI group;
  private final Duration interval;
  private final boolean keepOnExit;
  private final BooleanSupplier leader;
  private final SelfMetrics self;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Thread thread;
  private volatile boolean failing;
  private volatile boolean pushedOnce;

  public Pusher(
      PrometheusRegistry registry,
      String url,
      String job,
      String instance,
      Duration interval,
      boolean keepOnExit,
      BooleanSupplier leader,
      SelfMetrics self) {
    this.registry = registry;
    this.group =
        URI.create(
            url.replaceAll("/+$", "")
                + "/metrics/job/"
                + segment(job)
                + "/instance/"
                + segment(instance));
    this.interval = interval;
    this.keepOnExit = keepOnExit;
    this.leader = leader;
    this.self = self;
    this.thread = Thread.ofPlatform().daemon().name("push").start(this::run);
    LOG.info("pushing every " + interval.toMillis() / 1000.0 + " s to " + group);
  }

  private static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private void run() {
    Duration wait = interval;
    while (!Thread.currentThread().isInterrupted()) {
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        return;
      }
      if (!leader.getAsBoolean()) {
        wait = interval;
        continue;
      }
      wait = pushOnce() ? interval : backoff(wait);
    }
  }

  private Duration backoff(Duration last) {
    Duration next = last.multipliedBy(2);
    return next.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : next;
  }

  /** One push; returns whether the gateway took it. */
  boolean pushOnce() {
    try {
      ByteArrayOutputStream body = new ByteArrayOutputStream(64 * 1024);
      writer.write(body, registry.scrape());
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(group)
                  .timeout(Duration.ofSeconds(5))
                  .header("Content-Type", writer.getContentType())
                  .PUT(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) {
        throw new IOException("HTTP " + r.statusCode() + ": " + r.body().strip());
      }
      self.pushed(true);
      pushedOnce = true;
      if (failing) {
        failing = false;
        LOG.info("pushes to " + group + " work again");
      }
      return true;
    } catch (IOException e) {
      self.pushed(false);
      if (!failing) {
        failing = true;
        Log.log(
            LOG,
            Level.WARNING,
            "push to "
                + group
                + " failed: "
                + e.getMessage()
                + "; retrying with backoff up to "
                + MAX_BACKOFF.toSeconds()
                + " s",
            Field.of("group", group),
            Field.of("error", e.getMessage()));
      }
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Stops pushing and deletes the group (unless asked to keep it). */
  @Override
  public void close() {
    thread.interrupt();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (keepOnExit || !pushedOnce) {
      return;
    }
    try {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(group).timeout(Duration.ofSeconds(2)).DELETE().build(),
              HttpResponse.BodyHandlers.discarding());
      LOG.info("deleted push group " + group + " (HTTP " + r.statusCode() + ")");
    } catch (IOException | InterruptedException e) {
      LOG.warning("could not delete push group " + group + ": " + e.getMessage());
    }
  }
}
