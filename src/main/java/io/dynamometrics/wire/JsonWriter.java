package io.dynamometrics.wire;

import java.nio.charset.StandardCharsets;

/**
 * Writes compact JSON objects into {@link Bytes}, as Jackson's generator writes them (numbers by
 * {@link Long#toString}, {@link Double#toString} and {@link Float#toString}; strings escaped the
 * same way), without a generator per document: the l2c event of 10,000 workers is written once per
 * poll. Only objects: the wire's documents have no arrays.
 */
public final class JsonWriter {
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  private final Bytes out;
  private boolean comma; // a member was written in the current object

  public JsonWriter(int size) {
    out = new Bytes(size);
  }

  /** A member's name, quoted, escaped and followed by its colon once, when it is defined. */
  public static final class Name {
    private final byte[] bytes;

    private Name(byte[] bytes) {
      this.bytes = bytes;
    }

    public static Name of(String name) {
      JsonWriter w = new JsonWriter(name.length() + 3);
      w.string(name);
      w.out.write(':');
      return new Name(w.toByteArray());
    }
  }

  public JsonWriter startObject() {
    out.write('{');
    comma = false;
    return this;
  }

  /** A member whose value is an object, which the next calls fill. */
  public JsonWriter startObject(Name name) {
    name(name);
    return startObject();
  }

  /** A member named by a whole number (as a string, as JSON's names are), its value an object. */
  public JsonWriter startObject(long name) {
    member();
    out.write('"');
    out.digits(name);
    out.write('"');
    out.write(':');
    return startObject();
  }

  public JsonWriter endObject() {
    out.write('}');
    comma = true;
    return this;
  }

  public JsonWriter field(Name name, long v) {
    name(name);
    out.digits(v);
    return this;
  }

  /**
   * A double, as {@link Double#toString} writes it; {@code NaN} and the infinities, which JSON has
   * no number for, as strings, as Jackson writes them.
   */
  public JsonWriter field(Name name, double v) {
    name(name);
    number(Double.toString(v), Double.isFinite(v));
    return this;
  }

  /** A float, as {@link Float#toString} writes it (and as {@link #field(Name, double)}). */
  public JsonWriter field(Name name, float v) {
    name(name);
    number(Float.toString(v), Float.isFinite(v));
    return this;
  }

  public JsonWriter field(Name name, String v) {
    name(name);
    string(v);
    return this;
  }

  public JsonWriter nullField(Name name) {
    name(name);
    out.ascii("null");
    return this;
  }

  public byte[] toByteArray() {
    return out.toByteArray();
  }

  @Override
  public String toString() {
    return out.toString();
  }

  private void number(String text, boolean finite) {
    if (finite) {
      out.ascii(text);
    } else {
      string(text);
    }
  }

  private void name(Name name) {
    member();
    out.write(name.bytes);
  }

  /** Starts a member of the current object: a comma unless it is the first. */
  private void member() {
    if (comma) {
      out.write(',');
    }
    comma = true;
  }

  /**
   * {@code s} quoted: {@code "} and {@code \} escaped, control characters as {@code \n}, {@code
   * \t}, {@code \r}, {@code \b}, {@code \f} or {@code \}{@code u00XX}, each half of a surrogate
   * pair as {@code \}{@code uXXXX} (as Jackson does by default), the rest as UTF-8.
   */
  private void string(String s) {
    out.write('"');
    int n = s.length();
    int plain = 0; // the start of a run written as it is
    boolean wide = false; // whether that run has characters beyond ASCII
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80 && !Character.isSurrogate(c)) {
        wide = true;
        continue;
      }
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        continue;
      }
      run(s, plain, i, wide);
      plain = i + 1;
      wide = false;
      out.write('\\');
      switch (c) {
        case '"', '\\' -> out.write(c);
        case '\n' -> out.write('n');
        case '\t' -> out.write('t');
        case '\r' -> out.write('r');
        case '\b' -> out.write('b');
        case '\f' -> out.write('f');
        default -> {
          out.write('u');
          for (int shift = 12; shift >= 0; shift -= 4) {
            out.write((char) HEX[(c >> shift) & 0xF]);
          }
        }
      }
    }
    run(s, plain, n, wide);
    out.write('"');
  }

  /** {@code s}'s characters from {@code from} to {@code to}, none of which needs an escape. */
  private void run(String s, int from, int to, boolean wide) {
    if (wide) {
      out.write(s.substring(from, to).getBytes(StandardCharsets.UTF_8));
    } else {
      out.ascii(s, from, to);
    }
  }
}
