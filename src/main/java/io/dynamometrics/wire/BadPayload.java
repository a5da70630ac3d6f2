package io.dynamometrics.wire;

/**
 * A pushed payload that cannot be used: {@link #reason} is one of {@link DecodeError}'s tokens (a
 * label value), the message a printable explanation for logs.
 */
public final class BadPayload extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String reason;

  BadPayload(String reason, String detail) {
    super(detail);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
