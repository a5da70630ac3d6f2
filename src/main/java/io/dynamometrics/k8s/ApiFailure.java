package io.dynamometrics.k8s;

import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * What went wrong with a request to the Kubernetes API, for the log, {@code /readyz} and the
 * failure counter: a reason ({@code forbidden}, {@code not_found}, {@code unauthorized}, {@code
 * unreachable}, {@code error}) and a message that says what to do.
 */
record ApiFailure(String reason, String message) {
  /**
   * @param verbs what the service needs on {@code resource}, named in the advice for a 403
   */
  static ApiFailure of(
      Throwable t, String verbs, String resource, String namespace, String server) {
    KubernetesClientException k = find(t, KubernetesClientException.class);
    int code = k == null ? 0 : k.getCode();
    String said =
        k != null && k.getStatus() != null && k.getStatus().getMessage() != null
            ? k.getStatus().getMessage()
            : rootMessage(t);
    return switch (code) {
      case 401 ->
          new ApiFailure(
              "unauthorized",
              "the API server at "
                  + server
                  + " does not accept the service's credentials (401 Unauthorized): check the"
                  + " service account token, or the user of the KUBECONFIG context");
      case 403 ->
          new ApiFailure(
              "forbidden",
              "forbidden (403): "
                  + said
                  + ". Grant the service's account "
                  + verbs
                  + " on "
                  + resource
                  + " in namespace "
                  + namespace
                  + " (the Helm chart's Role does)");
      case 404 ->
          new ApiFailure(
              "not_found",
              resource.equals(KubeRoster.METADATA)
                  ? "the API server at "
                      + server
                      + " does not serve "
                      + resource
                      + "/v1alpha1 (404): the DynamoWorkerMetadata CRD is not installed (the"
                      + " Dynamo operator installs it), or namespace "
                      + namespace
                      + " does not exist"
                  : "the API server at " + server + " does not serve " + resource + " (404)");
      default ->
          code <= 0 && find(t, java.io.IOException.class) != null
              ? new ApiFailure(
                  "unreachable",
                  "cannot reach the API server at " + server + " (" + rootMessage(t) + ")")
              : new ApiFailure("error", "the API server answered " + code + ": " + said);
    };
  }

  private static <E extends Throwable> E find(Throwable t, Class<E> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    return null;
  }

  /** What went wrong on the way, in words: the usual network failures by name. */
  private static String rootMessage(Throwable t) {
    if (find(t, java.net.ConnectException.class) != null) {
      return "connection refused";
    }
    java.net.UnknownHostException unknown = find(t, java.net.UnknownHostException.class);
    if (unknown != null) {
      return "unknown host " + unknown.getMessage();
    }
    if (find(t, java.net.http.HttpTimeoutException.class) != null
        || find(t, java.net.SocketTimeoutException.class) != null) {
      return "timed out";
    }
    if (find(t, javax.net.ssl.SSLException.class) != null) {
      return "TLS: " + find(t, javax.net.ssl.SSLException.class).getMessage();
    }
    Throwable said = t;
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c.getMessage() != null) {
        said = c;
      }
    }
    String m = said.getMessage();
    return said.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
