package io.dynamometrics.fleet;

/** One aggregated Dynamo endpoint: raw (not slugified) namespace, component and endpoint names. */
public record Target(String namespace, String component, String endpoint)
    implements Comparable<Target> {
  @Override
  public int compareTo(Target o) {
    int c = namespace.compareTo(o.namespace);
    if (c == 0) {
      c = component.compareTo(o.component);
    }
    return c != 0 ? c : endpoint.compareTo(o.endpoint);
  }

  @Override
  public String toString() {
    return namespace + "/" + component + "/" + endpoint;
  }
}
