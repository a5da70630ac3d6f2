package io.dynamometrics.web;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The HTTP side: {@code /metrics} (the Prometheus client's handler, with its content negotiation
 * and gzip), {@code /healthz}, {@code /readyz}, and whatever else the caller mounts.
 *
 * <p>Slow and stuck clients: each request runs on its own virtual thread, apart from polling; a
 * request must arrive within {@value #MAX_REQUEST_SECONDS} s, or the connection is closed. A {@code
 * /metrics} response not taken within {@value #MAX_RESPONSE_SECONDS} s is abandoned: its thread is
 * interrupted, which closes the connection under a blocked write (the JDK server's own response
 * timer does not). At most {@value #MAX_SCRAPES} {@code /metrics} responses (each a buffer of the
 * whole exposition) are in flight at once; a scrape that cannot start within {@value
 * #SCRAPE_QUEUE_SECONDS} s gets 503.
 */
public final class WebServer implements AutoCloseable {
  static final int MAX_REQUEST_SECONDS = 10;
  static final int MAX_RESPONSE_SECONDS = 30;
  static final int MAX_SCRAPES = 16;
  static final int SCRAPE_QUEUE_SECONDS = 10;

  /**
   * The most written to the socket at once: a 10 MB body written whole took twice as long as in
   * slices (the benchmarks of the socket write), likely because the channel copies a heap array
   * into a temporary direct buffer of the write's size, cached per thread, and each request has a
   * fresh thread.
   */
  private static final int WRITE_SLICE = 256 * 1024;

  static {
    // read once by the JDK's server when its first instance is made; an operator's -D wins
    if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
      System.setProperty("sun.net.httpserver.maxReqTime", Integer.toString(MAX_REQUEST_SECONDS));
    }
  }

  private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

  private final HttpServer server;
  private final PrometheusRegistry registry;

  /** What answers /metrics: the client's handler, or a {@link ScrapeCache} in front of it. */
  private volatile HttpHandler scrape;

  private volatile ScrapeCache cache;

  private final ExecutorService pool;

  private static ScheduledThreadPoolExecutor watchdog() {
    var w =
        new ScheduledThreadPoolExecutor(
            1, Thread.ofPlatform().daemon().name("http-watchdog").factory());
    w.setRemoveOnCancelPolicy(true); // a finished scrape's timer goes at once, not 30 s later
    return w;
  }

  /**
   * @param notReady why {@code /readyz} should not answer 200, or {@code null} when it should
   * @param extra more handlers by path prefix (the dashboard and API)
   * @throws java.net.BindException when the port is taken
   */
  public WebServer(
      String host,
      int port,
      PrometheusRegistry registry,
      Supplier<String> notReady,
      Map<String, HttpHandler> extra)
      throws IOException {
    this(host, port, registry, notReady, extra, WebConfig.NONE);
  }

  /**
   * @param config TLS and basic auth for every endpoint
   */
  public WebServer(
      String host,
      int port,
      PrometheusRegistry registry,
      Supplier<String> notReady,
      Map<String, HttpHandler> extra,
      WebConfig config)
      throws IOException {
    this.registry = registry;
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (config.tls() != null) {
      HttpsServer https = HttpsServer.create(address, 64);
      https.setHttpsConfigurator(config.tls().configurator());
      server = https;
    } else {
      server = HttpServer.create(address, 64);
    }
    pool = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("http-", 0).factory());
    server.setExecutor(pool);
    Map<String, HttpHandler> handlers = new LinkedHashMap<>();
    MetricsHandler client = new MetricsHandler(registry);
    scrape = client;
    handlers.put("/metrics", limited(ex -> scrape.handle(ex)));
    handlers.put("/healthz", ex -> text(ex, 200, "ok\n"));
    handlers.put(
        "/readyz",
        ex -> {
          String why = notReady.get();
          text(ex, why == null ? 200 : 503, why == null ? "ready\n" : "not ready: " + why + "\n");
        });
    handlers.putAll(extra);
    handlers.putIfAbsent("/", ex -> text(ex, 404, "not found; see /metrics, /healthz, /readyz\n"));
    handlers.forEach(
        (path, handler) -> {
          var context = server.createContext(path, handler);
          context.getFilters().add(guard(config));
          if (config.requiresAuth()) {
            context.setAuthenticator(
                new BasicAuthenticator("dynamo-metrics") {
                  @Override
                  public boolean checkCredentials(String user, String password) {
                    return config.check(user, password);
                  }
                });
          }
        });
    server.start();
  }

  /**
   * Refuses a client certificate outside client_allowed_sans (403) and adds the configured headers.
   */
  private static Filter guard(WebConfig config) {
    return new Filter() {
      @Override
      public void doFilter(HttpExchange ex, Chain chain) throws IOException {
        config.headers().forEach(ex.getResponseHeaders()::set);
        if (config.tls() != null
            && ex instanceof HttpsExchange https
            && !config.tls().allowed(peer(https))) {
          text(
              ex,
              403,
              "forbidden: the client certificate's names are not in client_allowed_sans\n");
          return;
        }
        chain.doFilter(ex);
      }

      @Override
      public String description() {
        return "web config: headers and client_allowed_sans";
      }
    };
  }

  private static X509Certificate[] peer(HttpsExchange https) {
    try {
      var certs = https.getSSLSession().getPeerCertificates();
      return Arrays.copyOf(certs, certs.length, X509Certificate[].class);
    } catch (SSLPeerUnverifiedException | ArrayStoreException none) {
      return null;
    }
  }

  /**
   * {@code handler} with at most {@link #MAX_SCRAPES} requests at once (one that waits too long
   * gets 503), each abandoned after {@link #MAX_RESPONSE_SECONDS}.
   */
  private static HttpHandler limited(HttpHandler handler) {
    Semaphore slots = new Semaphore(MAX_SCRAPES);
    return ex -> {
      boolean admitted;
      try {
        admitted = slots.tryAcquire(SCRAPE_QUEUE_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        admitted = false;
      }
      if (!admitted) {
        text(ex, 503, "busy: " + MAX_SCRAPES + " scrapes are already in progress\n");
        return;
      }
      // interrupting a thread blocked writing to the client's channel closes that channel
      ScheduledFuture<?> abandon =
          WATCHDOG.schedule(
              Thread.currentThread()::interrupt, MAX_RESPONSE_SECONDS, TimeUnit.SECONDS);
      try {
        handler.handle(ex);
      } finally {
        abandon.cancel(false);
        Thread.interrupted();
        slots.release();
      }
    };
  }

  /**
   * Renders /metrics once per {@code snapshot} (compared by identity) and format, and serves those
   * bytes to every scrape until the snapshot changes or the rendering is {@code maxAge} old.
   *
   * @param prerendered families the text formats take as written ahead, or {@code null}
   * @param rendered told of each rendering: {@code ahead} of an expected scrape, or {@code
   *     on_scrape}
   */
  public void renderOncePer(
      Supplier<?> snapshot,
      Prerendered prerendered,
      Duration maxAge,
      java.util.function.Consumer<String> rendered) {
    cache = new ScrapeCache(registry, prerendered, snapshot, scrape, maxAge.toNanos(), rendered);
    scrape = cache;
  }

  /**
   * A new poll's snapshot is out (after {@link #renderOncePer}): it is rendered now for scrapers
   * expected back within {@code pollInterval}.
   */
  public void published(Object snapshot, Duration pollInterval) {
    ScrapeCache c = cache;
    if (c != null) {
      c.published(snapshot, pollInterval.toNanos());
    }
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  public static void text(HttpExchange ex, int status, String body) throws IOException {
    send(ex, status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
  }

  public static void send(HttpExchange ex, int status, String contentType, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    respond(ex, status, body);
  }

  /**
   * Sends {@code body} (none to a HEAD request) with the headers already set, and ends {@code ex}.
   */
  static void respond(HttpExchange ex, int status, byte[] body) throws IOException {
    try (ex) {
      boolean head = "HEAD".equals(ex.getRequestMethod());
      ex.sendResponseHeaders(status, head ? -1 : body.length);
      if (!head) {
        try (OutputStream out = ex.getResponseBody()) {
          for (int off = 0; off < body.length; off += WRITE_SLICE) {
            out.write(body, off, Math.min(WRITE_SLICE, body.length - off));
          }
        }
      }
    }
  }

  @Override
  public void close() {
    ScrapeCache c = cache;
    if (c != null) {
      c.close();
    }
    server.stop(0);
    pool.shutdownNow();
  }
}
