package io.dynamometrics.wire;

/**
 * Why a payload, or part of one, could not be used.
 *
 * @param reason a short, fixed token, safe as a label value (one of the constants here)
 * @param detail a human-readable explanation for logs; may quote (truncated) input
 */
public record DecodeError(String reason, String detail) {
  public static final String INVALID_JSON = "invalid_json";
  public static final String NOT_STATS_REPLY = "not_stats_reply";
  public static final String NOT_METRICS = "not_metrics";
  public static final String NO_WORKER_ID = "no_worker_id";
  public static final String INVALID_EVENT = "invalid_event";
  public static final String INVALID_MSGPACK = "invalid_msgpack";
  public static final String INVALID_ENVELOPE = "invalid_envelope";
  public static final String INVALID_LOAD = "invalid_load";
  public static final String INVALID_FORWARD_PASS = "invalid_forward_pass";
  public static final String UNKNOWN_TOPIC = "unknown_topic";
  public static final String INVALID_FRAME = "invalid_frame";
}
