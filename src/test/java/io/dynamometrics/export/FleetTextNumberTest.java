package io.dynamometrics.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.wire.Bytes;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The sample values FleetText writes are the client's: {@link Double#toString}, and ±Inf. */
class FleetTextNumberTest {
  private static String written(double v) {
    Bytes b = new Bytes(1);
    FleetText.number(b, v);
    return b.toString();
  }

  private static String client(double v) {
    if (v == Double.POSITIVE_INFINITY) {
      return "+Inf";
    }
    return v == Double.NEGATIVE_INFINITY ? "-Inf" : Double.toString(v);
  }

  @Test
  void edgeValuesAreWrittenAsDoubleToStringWritesThem() {
    double[] edges = {
      0.0,
      -0.0,
      1,
      -1,
      9,
      10,
      99,
      100,
      4096,
      9_999_999,
      -9_999_999,
      10_000_000,
      -10_000_000,
      1e7 + 1,
      123_456_789,
      0x1p53 + 2,
      Long.MAX_VALUE,
      Long.MIN_VALUE,
      -Long.MAX_VALUE,
      0.5,
      -0.5,
      1e-3,
      9.99e-4,
      1e-7,
      2.5,
      1e300,
      -1e300,
      Double.MIN_VALUE,
      Double.MAX_VALUE,
      Double.POSITIVE_INFINITY,
      Double.NEGATIVE_INFINITY,
      Double.NaN
    };
    for (double v : edges) {
      assertThat(written(v)).as("%s", v).isEqualTo(client(v));
    }
  }

  @Test
  void randomWholeAndFractionalValuesAgree() {
    Random rnd = new Random(14);
    for (int i = 0; i < 200_000; i++) {
      double v =
          switch (i % 4) {
            case 0 -> rnd.nextInt(20_000_001) - 10_000_000; // whole, both sides of the limit
            case 1 -> rnd.nextLong() >> rnd.nextInt(64); // whole, any magnitude
            case 2 -> rnd.nextDouble() * Math.pow(10, rnd.nextInt(20) - 10);
            default -> Double.longBitsToDouble(rnd.nextLong()); // any bits
          };
      assertThat(written(v)).as("%s", v).isEqualTo(client(v));
    }
  }
}
