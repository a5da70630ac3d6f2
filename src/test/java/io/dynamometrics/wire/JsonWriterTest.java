package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * JsonWriter writes, byte for byte, what Jackson's generator (which wrote the l2c event and the
 * mock worker's metrics and the web API's documents before it) writes for the same calls: random
 * documents of nested objects and arrays, integers, doubles, floats, booleans, nulls and strings
 * with quotes, backslashes, control characters and characters beyond ASCII, members named by a
 * {@link JsonWriter.Name} or by a string.
 */
class JsonWriterTest {
  private static final String ALPHABET =
      "ab.-_7\"\\/\n\t\r\b\f\u0000\u0001\u001f\u007f\u00e9\u4e2d";

  private static String text(Random r) {
    StringBuilder sb = new StringBuilder();
    for (int i = r.nextInt(12); i > 0; i--) {
      sb.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
    }
    if (r.nextInt(10) == 0) {
      sb.append("\uD83D\uDE00"); // a pair of surrogates: one character beyond the BMP
    }
    return sb.toString();
  }

  private static double number(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> r.nextInt(10_000);
      case 1 -> r.nextDouble();
      case 2 ->
          Double.longBitsToDouble(
              (r.nextLong() & ~(0x7ffL << 52)) | ((r.nextInt(2046) + 1L) << 52));
      default -> -r.nextDouble() * 1e-9;
    };
  }

  /** The same random calls on both; depth keeps the objects open at once few. */
  private static void members(Random r, JsonWriter ours, JsonGenerator g, int depth)
      throws IOException {
    for (int i = r.nextInt(6); i > 0; i--) {
      String name = text(r);
      JsonWriter.Name n = JsonWriter.Name.of(name);
      if (r.nextInt(4) == 0) { // named by a string, then any value
        ours.name(name);
        g.writeFieldName(name);
        value(r, ours, g, depth);
        continue;
      }
      switch (r.nextInt(depth < 4 ? 7 : 6)) {
        case 0 -> {
          long v = r.nextBoolean() ? r.nextLong() : r.nextInt(100);
          ours.field(n, v);
          g.writeNumberField(name, v);
        }
        case 1 -> {
          double v = number(r);
          ours.field(n, v);
          g.writeNumberField(name, v);
        }
        case 2 -> {
          float v = (float) number(r);
          ours.field(n, v);
          g.writeNumberField(name, v);
        }
        case 3 -> {
          String v = text(r);
          ours.field(n, v);
          g.writeStringField(name, v);
        }
        case 4 -> {
          ours.nullField(n);
          g.writeNullField(name);
        }
        case 5 -> {
          long id = r.nextBoolean() ? r.nextLong() : Long.MIN_VALUE;
          ours.startObject(id).field(n, Long.MIN_VALUE).endObject();
          g.writeObjectFieldStart(Long.toString(id));
          g.writeNumberField(name, Long.MIN_VALUE);
          g.writeEndObject();
        }
        default -> {
          ours.startObject(n);
          g.writeObjectFieldStart(name);
          members(r, ours, g, depth + 1);
          ours.endObject();
          g.writeEndObject();
        }
      }
    }
  }

  /** One value of any kind: an array's element, or the value of the member just named. */
  private static void value(Random r, JsonWriter ours, JsonGenerator g, int depth)
      throws IOException {
    switch (r.nextInt(depth < 4 ? 8 : 6)) {
      case 0 -> {
        long v = r.nextBoolean() ? r.nextLong() : r.nextInt(100);
        ours.value(v);
        g.writeNumber(v);
      }
      case 1 -> {
        double v = number(r);
        ours.value(v);
        g.writeNumber(v);
      }
      case 2 -> {
        float v = (float) number(r);
        ours.value(v);
        g.writeNumber(v);
      }
      case 3 -> {
        String v = text(r);
        ours.value(v);
        g.writeString(v);
      }
      case 4 -> {
        boolean v = r.nextBoolean();
        ours.value(v);
        g.writeBoolean(v);
      }
      case 5 -> {
        ours.nullValue();
        g.writeNull();
      }
      case 6 -> {
        ours.startArray();
        g.writeStartArray();
        for (int i = r.nextInt(5); i > 0; i--) {
          value(r, ours, g, depth + 1);
        }
        ours.endArray();
        g.writeEndArray();
      }
      default -> {
        ours.startObject();
        g.writeStartObject();
        members(r, ours, g, depth + 1);
        ours.endObject();
        g.writeEndObject();
      }
    }
  }

  @Test
  void writesWhatJacksonsGeneratorWrites() throws IOException {
    Random r = new Random(20261202);
    for (int doc = 0; doc < 20_000; doc++) {
      JsonWriter ours = new JsonWriter(r.nextInt(64)).startObject();
      ByteArrayOutputStream theirs = new ByteArrayOutputStream();
      try (JsonGenerator g = Json.mapper().getFactory().createGenerator(theirs)) {
        g.writeStartObject();
        members(r, ours, g, 0);
        g.writeEndObject();
      }
      ours.endObject();
      assertThat(new String(ours.toByteArray(), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo(theirs.toString(java.nio.charset.StandardCharsets.UTF_8));
      assertThat(ours.toByteArray()).isEqualTo(theirs.toByteArray());
    }
  }
}
