package io.dynamometrics.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** The dashboard: a few files from the jar under {@code /web}, served at {@code /}. */
public final class StaticFiles implements HttpHandler {
  private static final Map<String, String> TYPES =
      Map.of(
          "html",
          "text/html; charset=utf-8",
          "js",
          "text/javascript; charset=utf-8",
          "css",
          "text/css; charset=utf-8",
          "svg",
          "image/svg+xml");

  @Override
  public void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    if (path.equals("/")) {
      path = "/index.html";
    }
    String ext = path.substring(path.lastIndexOf('.') + 1);
    if (path.contains("..") || !TYPES.containsKey(ext)) {
      WebServer.text(
          ex,
          404,
          "not found: "
              + path
              + "; see / (dashboard), /metrics, /healthz, /readyz, /api/v1/fleet\n");
      return;
    }
    try (InputStream in = StaticFiles.class.getResourceAsStream("/web" + path)) {
      if (in == null) {
        WebServer.text(ex, 404, "not found: " + path + "\n");
        return;
      }
      WebServer.send(ex, 200, TYPES.get(ext), in.readAllBytes());
    }
  }
}
