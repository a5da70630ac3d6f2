package io.dynamometrics.wire;

import java.nio.charset.StandardCharsets;

/**
 * Writes compact JSON into {@link Bytes}, as Jackson's generator writes it (numbers by {@link
 * Long#toString}, {@link Double#toString} and {@link Float#toString}; strings escaped the same
 * way), without a generator per document: the l2c event of 10,000 workers is written once per poll.
 * Members are named by a {@link Name} encoded once (the wire's documents) or by a string (the web
 * API's); {@code name} then a value method writes a member, a value method alone an array element.
 */
public final class JsonWriter {
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  private final Bytes out;
  private boolean comma; // a member or element was written in the current object or array
  private boolean named; // a member's name was written and its value is next

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

  /** An object: the document, an array's element, or the value of the member just named. */
  public JsonWriter startObject() {
    value();
    out.write('{');
    comma = false;
    return this;
  }

  /** An array: the document, an array's element, or the value of the member just named. */
  public JsonWriter startArray() {
    value();
    out.write('[');
    comma = false;
    return this;
  }

  public JsonWriter endArray() {
    out.write(']');
    comma = true;
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
    named = true;
    return startObject();
  }

  /** A member whose value is an array, which the next calls fill. */
  public JsonWriter startArray(String name) {
    return name(name).startArray();
  }

  /** A member whose value is an object, which the next calls fill. */
  public JsonWriter startObject(String name) {
    return name(name).startObject();
  }

  public JsonWriter endObject() {
    out.write('}');
    comma = true;
    return this;
  }

  public JsonWriter field(Name name, long v) {
    return name(name).value(v);
  }

  public JsonWriter field(Name name, double v) {
    return name(name).value(v);
  }

  public JsonWriter field(Name name, float v) {
    return name(name).value(v);
  }

  public JsonWriter field(Name name, String v) {
    return name(name).value(v);
  }

  public JsonWriter nullField(Name name) {
    return name(name).nullValue();
  }

  /** A member's name; the next value method writes its value. */
  public JsonWriter name(Name name) {
    member();
    out.write(name.bytes);
    named = true;
    return this;
  }

  /** A member's name, escaped as it is written; the next value method writes its value. */
  public JsonWriter name(String name) {
    member();
    string(name);
    out.write(':');
    named = true;
    return this;
  }

  public JsonWriter value(long v) {
    value();
    out.digits(v);
    return this;
  }

  /**
   * A double, as {@link Double#toString} writes it; {@code NaN} and the infinities, which JSON has
   * no number for, as strings, as Jackson writes them.
   */
  public JsonWriter value(double v) {
    value();
    number(Double.toString(v), Double.isFinite(v));
    return this;
  }

  /** A float, as {@link Float#toString} writes it (and as {@link #value(double)}). */
  public JsonWriter value(float v) {
    value();
    number(Float.toString(v), Float.isFinite(v));
    return this;
  }

  public JsonWriter value(String v) {
    value();
    string(v);
    return this;
  }

  public JsonWriter value(boolean v) {
    value();
    out.ascii(v ? "true" : "false");
    return this;
  }

  public JsonWriter nullValue() {
    value();
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

  /** Starts a value: after a member's name nothing, else it is an element (or the document). */
  private void value() {
    if (named) {
      named = false;
    } else {
      member();
    }
  }

  /** Starts a member or element of the current object or array: a comma unless it is the first. */
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
