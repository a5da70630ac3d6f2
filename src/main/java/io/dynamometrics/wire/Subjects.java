package io.dynamometrics.wire;

/** The NATS subjects of the Dynamo protocol. Namespace names are used raw in event subjects. */
public final class Subjects {
  private Subjects() {}

  public static String stats(String service) {
    return "$SRV.STATS." + service;
  }

  public static String hitRate(String namespace) {
    return "namespace." + namespace + ".kv-hit-rate";
  }

  public static String l2c(String namespace, String component, String endpoint) {
    return "namespace." + namespace + ".l2c." + component + "." + endpoint;
  }

  /** {@code {service}.{ep}-{lease in lowercase hex}}: where one worker's endpoint listens. */
  public static String endpoint(String service, String endpoint, long lease) {
    return service + "." + endpoint + "-" + Long.toHexString(lease);
  }

  /**
   * The worker id of an endpoint subject: the last {@code -} piece read as base-16 signed 64-bit.
   * Returns {@code null} for static endpoints, whose last piece is not such a number.
   */
  public static Long workerId(String subject) {
    int dash = subject.lastIndexOf('-');
    if (dash < 0 || dash == subject.length() - 1 || subject.length() - dash - 1 > 16) {
      return null;
    }
    long value = 0;
    for (int i = dash + 1; i < subject.length(); i++) {
      char c = subject.charAt(i);
      int digit =
          c >= '0' && c <= '9'
              ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (digit < 0) {
        return null;
      }
      value = (value << 4) | digit;
    }
    // Rust's i64::from_str_radix rejects values above i64::MAX; so do we.
    return value < 0 ? null : value;
  }
}
