package io.dynamometrics.wire;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a {@code $SRV.STATS} reply's endpoints straight from its bytes, without a JSON parser: a
 * poll of 10,000 workers reads 10,000 replies, and Jackson's parser (its field-name table, a
 * duplicate-key set per object, the parser itself) cost most of a poll's CPU.
 *
 * <p>It takes the JSON every Dynamo generation writes: ASCII strings without escapes, numbers of up
 * to 30 characters, nesting up to 16 deep. It checks all of the JSON as strictly as the parser
 * configured in {@link Json} (no duplicate key in any object, no trailing data, nothing but JSON's
 * four whitespace bytes) and answers {@code null} at the first thing it does not take, valid or
 * not; {@link StatsReplyDecoder} then decodes the reply with the parser, which is the rule and the
 * words of every error. For each endpoint it gives the subject and the metrics when {@code data}
 * holds plainly valid ones, as {@link MetricsDecoder#stream} takes them.
 */
final class StatsReplyScanner {
  /**
   * One element of {@code endpoints}.
   *
   * @param subject its {@code subject} string, {@code null} without one
   * @param metrics its plainly valid metrics, else {@code null}
   * @param hasData whether it has a {@code data} field at all
   */
  record Endpoint(String subject, ForwardPassMetrics metrics, boolean hasData) {}

  private static final int MAX_DEPTH = 16;
  private static final int MAX_STRING = 4096;
  private static final int MAX_NUMBER = 30;

  private static final byte[] ENDPOINTS = ascii("endpoints");
  private static final byte[] SUBJECT = ascii("subject");
  private static final byte[] DATA = ascii("data");
  private static final byte[] WORKER_STATS = ascii("worker_stats");
  private static final byte[] KV_STATS = ascii("kv_stats");
  private static final byte[][] U64 =
      Arrays.stream(MetricSlots.U64).map(StatsReplyScanner::ascii).toArray(byte[][]::new);
  private static final byte[][] F64 =
      Arrays.stream(MetricSlots.F64).map(StatsReplyScanner::ascii).toArray(byte[][]::new);
  private static final byte[] RANK = ascii(MetricSlots.RANK);

  /** Exact powers of ten, for numbers that convert exactly with one operation. */
  private static final double[] POW10 = new double[23];

  static {
    POW10[0] = 1;
    for (int i = 1; i < POW10.length; i++) {
      POW10[i] = POW10[i - 1] * 10;
    }
  }

  /** Thrown at the first byte the scanner does not take; no stack trace, it is not an error. */
  private static final class Unsupported extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unsupported() {
      super(null, null, false, false);
    }
  }

  private final byte[] b;
  private int pos;
  // the keys of the objects being read, innermost last: start and end offsets, for duplicates
  private int[] keys = new int[64];
  private int keyCount;
  // the last key or string read
  private int start;
  private int end;
  // the last number read: its digits as a long (up to 18 of them), its shape
  private long mantissa;
  private int exponent; // a power of ten to apply to mantissa, when it is exact
  private boolean negative;
  private boolean integer;
  private boolean exact; // mantissa and exponent hold the value exactly

  private StatsReplyScanner(byte[] b) {
    this.b = b;
  }

  /** The reply's endpoints in order, or {@code null} when the parser has to decide. */
  static List<Endpoint> scan(byte[] payload) {
    try {
      return new StatsReplyScanner(payload).reply();
    } catch (Unsupported e) {
      return null;
    }
  }

  private List<Endpoint> reply() {
    ws();
    if (peek() != '{') {
      throw new Unsupported(); // not an object: the parser's words
    }
    List<Endpoint> endpoints = null;
    int base = open(1);
    if (!close()) {
      do {
        key(base);
        if (is(ENDPOINTS) && peek() == '[') {
          endpoints = endpoints(2);
        } else {
          value(2);
        }
      } while (next());
    }
    keyCount = base;
    ws();
    if (pos != b.length || endpoints == null) {
      throw new Unsupported(); // trailing data, or no endpoints array: the parser's words
    }
    return endpoints;
  }

  private List<Endpoint> endpoints(int depth) {
    List<Endpoint> out = new ArrayList<>(2);
    pos++; // [
    ws();
    if (peek() == ']') {
      pos++;
      return out;
    }
    do {
      if (peek() == '{') {
        out.add(endpoint(depth + 1));
      } else {
        value(depth + 1);
      }
      ws();
      byte c = take();
      if (c == ']') {
        return out;
      }
      if (c != ',') {
        throw new Unsupported();
      }
      ws();
    } while (true);
  }

  private Endpoint endpoint(int depth) {
    String subject = null;
    ForwardPassMetrics metrics = null;
    boolean hasData = false;
    int base = open(depth);
    if (!close()) {
      do {
        key(base);
        if (is(SUBJECT) && peek() == '"') {
          string();
          subject = new String(b, start, end - start, StandardCharsets.ISO_8859_1);
        } else if (is(DATA)) {
          hasData = true;
          if (peek() == '{') {
            metrics = data(depth + 1);
          } else {
            value(depth + 1); // never valid metrics
          }
        } else {
          value(depth + 1);
        }
      } while (next());
    }
    keyCount = base;
    return new Endpoint(subject, metrics, hasData);
  }

  /** A {@code data} object: flat, or nested in {@code worker_stats} and {@code kv_stats}. */
  private ForwardPassMetrics data(int depth) {
    MetricSlots top = new MetricSlots();
    MetricSlots worker = null;
    MetricSlots kv = null;
    boolean plain = true;
    int base = open(depth);
    if (!close()) {
      do {
        key(base);
        boolean object = peek() == '{';
        if (is(WORKER_STATS) && object) {
          worker = slots(new MetricSlots(), depth + 1);
        } else if (is(KV_STATS) && object) {
          kv = slots(new MetricSlots(), depth + 1);
        } else if (is(WORKER_STATS) || is(KV_STATS)) {
          plain = false;
          value(depth + 1);
        } else {
          field(top, depth + 1);
        }
      } while (next());
    }
    keyCount = base;
    if (!plain) {
      return null;
    }
    return worker != null && kv != null ? worker.metrics(kv, true) : top.metrics(top, false);
  }

  private MetricSlots slots(MetricSlots s, int depth) {
    int base = open(depth);
    if (!close()) {
      do {
        key(base);
        field(s, depth + 1);
      } while (next());
    }
    keyCount = base;
    return s;
  }

  /** The value of the key just read: into {@code s} when it is one of the eight, else skipped. */
  private void field(MetricSlots s, int depth) {
    for (int i = 0; i < U64.length; i++) {
      if (is(U64[i])) {
        s.u64[i] = unsigned(depth, Long.MAX_VALUE);
        return;
      }
    }
    for (int i = 0; i < F64.length; i++) {
      if (is(F64[i])) {
        s.f64[i] = fraction(depth);
        return;
      }
    }
    if (is(RANK)) {
      boolean isNull = peek() == 'n';
      if (isNull) {
        value(depth); // checks that it is null
      }
      s.rank(isNull, isNull ? -1 : unsigned(depth, Integer.MAX_VALUE));
      return;
    }
    value(depth);
  }

  /** The value, when it is a non-negative integer up to {@code max}; else skipped, and -1. */
  private long unsigned(int depth, long max) {
    if (!numberAhead()) {
      value(depth);
      return -1;
    }
    number();
    return integer && exact && !negative && mantissa <= max ? mantissa : -1;
  }

  /** Whether the value at pos starts as a number does. */
  private boolean numberAhead() {
    byte c = peek();
    return c == '-' || (c >= '0' && c <= '9');
  }

  /** The value, when it is a finite number; else skipped, and NaN. */
  private double fraction(int depth) {
    if (!numberAhead()) {
      value(depth);
      return Double.NaN;
    }
    int from = pos;
    number();
    double v;
    if (integer) {
      if (!exact) {
        return Double.NaN; // an integer beyond a long: the parser decides
      }
      v = negative ? -mantissa : mantissa;
    } else if (exact && mantissa < (1L << 53) && Math.abs(exponent) < POW10.length) {
      // both exact doubles, so one correctly rounded operation gives the nearest double
      v = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
      v = negative ? -v : v;
    } else {
      v = Double.parseDouble(new String(b, from, pos - from, StandardCharsets.ISO_8859_1));
    }
    return Double.isFinite(v) ? v : Double.NaN;
  }

  // ---- JSON, checked as strictly as the parser and no further than this scanner goes ----

  /** Skips any value (pos on its first byte), checking it. */
  private void value(int depth) {
    if (depth > MAX_DEPTH) {
      throw new Unsupported();
    }
    switch (peek()) {
      case '{' -> {
        int base = open(depth);
        if (!close()) {
          do {
            key(base);
            value(depth + 1);
          } while (next());
        }
        keyCount = base;
      }
      case '[' -> {
        pos++;
        ws();
        if (peek() == ']') {
          pos++;
          return;
        }
        do {
          value(depth + 1);
          ws();
          byte c = take();
          if (c == ']') {
            return;
          }
          if (c != ',') {
            throw new Unsupported();
          }
          ws();
        } while (true);
      }
      case '"' -> string();
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> number();
    }
  }

  /** Enters an object (pos on its brace); answers where its keys start. */
  private int open(int depth) {
    if (depth > MAX_DEPTH) {
      throw new Unsupported();
    }
    pos++;
    ws();
    return keyCount;
  }

  /** Whether the object just opened is empty (and then steps past its brace). */
  private boolean close() {
    if (peek() == '}') {
      pos++;
      return true;
    }
    return false;
  }

  /**
   * After a member's value: {@code true} at a comma (another member follows), {@code false} at the
   * closing brace.
   */
  private boolean next() {
    ws();
    byte c = take();
    if (c == ',') {
      ws();
      return true;
    }
    if (c == '}') {
      return false;
    }
    throw new Unsupported();
  }

  /**
   * A member's key, its colon and the whitespace after: a key the object already has is a
   * duplicate, which the parser rejects.
   */
  private void key(int base) {
    string();
    int length = end - start;
    for (int k = base; k < keyCount; k += 2) {
      if (keys[k + 1] - keys[k] == length
          && Arrays.equals(b, keys[k], keys[k + 1], b, start, end)) {
        throw new Unsupported();
      }
    }
    if (keyCount + 2 > keys.length) {
      keys = Arrays.copyOf(keys, keys.length * 2);
    }
    keys[keyCount++] = start;
    keys[keyCount++] = end;
    ws();
    if (take() != ':') {
      throw new Unsupported();
    }
    ws();
  }

  /** Whether the last key read is {@code name}. */
  private boolean is(byte[] name) {
    int n = name.length;
    if (end - start != n) {
      return false;
    }
    for (int i = 0; i < n; i++) { // names are short: byte by byte
      if (b[start + i] != name[i]) {
        return false;
      }
    }
    return true;
  }

  /** A string of printable ASCII without escapes; its contents' offsets in start and end. */
  private void string() {
    if (take() != '"') {
      throw new Unsupported();
    }
    start = pos;
    int limit = Math.min(b.length, pos + MAX_STRING);
    for (int i = pos; i < limit; i++) {
      byte c = b[i];
      if (c == '"') {
        end = i;
        pos = i + 1;
        return;
      }
      if (c < 0x20 || c == '\\') { // negative: a byte of a multi-byte character
        throw new Unsupported();
      }
    }
    throw new Unsupported();
  }

  private void literal(String word) {
    int n = word.length();
    if (pos + n > b.length) {
      throw new Unsupported();
    }
    for (int i = 0; i < n; i++) {
      if (b[pos + i] != word.charAt(i)) {
        throw new Unsupported();
      }
    }
    pos += n;
  }

  /**
   * A number as JSON writes it ({@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?}); its value
   * in mantissa and exponent when it has up to 18 significant digits and a small exponent.
   */
  private void number() {
    int from = pos;
    negative = peek() == '-';
    if (negative) {
      pos++;
    }
    mantissa = 0;
    int digits = 0;
    exponent = 0;
    integer = true;
    if (peek() == '0') {
      pos++;
    } else {
      digits = digits();
      if (digits == 0) {
        throw new Unsupported();
      }
    }
    if (pos < b.length && b[pos] == '.') {
      pos++;
      integer = false;
      int fraction = digits();
      if (fraction == 0) {
        throw new Unsupported();
      }
      digits += fraction;
      exponent = -fraction;
    }
    if (pos < b.length && (b[pos] == 'e' || b[pos] == 'E')) {
      pos++;
      integer = false;
      boolean minus = false;
      if (pos < b.length && (b[pos] == '+' || b[pos] == '-')) {
        minus = b[pos++] == '-';
      }
      int e = 0;
      int from2 = pos;
      while (pos < b.length && b[pos] >= '0' && b[pos] <= '9') {
        e = Math.min(e * 10 + (b[pos++] - '0'), 1000);
      }
      if (pos == from2) {
        throw new Unsupported();
      }
      exponent += minus ? -e : e;
    }
    if (pos - from > MAX_NUMBER) {
      throw new Unsupported();
    }
    exact = digits <= 18;
  }

  /**
   * Digits at pos, added to the mantissa (which overflows past 18 digits, when it is not exact and
   * not used); how many.
   */
  private int digits() {
    int from = pos;
    long m = mantissa;
    while (pos < b.length && b[pos] >= '0' && b[pos] <= '9') {
      m = m * 10 + (b[pos++] - '0');
    }
    mantissa = m;
    return pos - from;
  }

  private void ws() {
    while (pos < b.length) {
      byte c = b[pos];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return;
      }
      pos++;
    }
  }

  private byte peek() {
    if (pos >= b.length) {
      throw new Unsupported();
    }
    return b[pos];
  }

  private byte take() {
    byte c = peek();
    pos++;
    return c;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
