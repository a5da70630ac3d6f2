package io.dynamometrics.etcd;

import java.util.Locale;

/**
 * Where Dynamo keeps its keys in etcd: before v0.3.0 ({@code components}) and since ({@code
 * instances}).
 */
public enum Layout {
  /** G1/G2: {@code {ns}/components/{comp}/{ep}:{lease}}. */
  COMPONENTS,
  /** v0.3.0 on: {@code instances/{ns}/{comp}/{ep}:{lease}}. */
  INSTANCES;

  public static Layout parse(String s) {
    try {
      return valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown etcd layout '" + s + "' (expected components or instances)");
    }
  }

  /** The prefix under which workers of namespace {@code ns} register. */
  public String workers(String ns) {
    return this == COMPONENTS ? ns + "/components/" : "instances/" + ns + "/";
  }

  /** The aggregator's singleton key. */
  public String singleton(String ns) {
    return workers(ns) + "count/instance";
  }

  /** A worker's registration key. */
  public String registration(String ns, String component, String endpoint, long lease) {
    return workers(ns) + component + "/" + endpoint + ":" + Long.toHexString(lease);
  }
}
