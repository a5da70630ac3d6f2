package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.bouncycastle.crypto.digests.Blake3Digest;
import org.junit.jupiter.api.Test;

class ServiceNamesTest {
  @Test
  void reproducesBothColumnsOfTheServiceNameFixture() {
    List<String> rows =
        Fixtures.text("service-names.tsv")
            .lines()
            .filter(l -> !l.startsWith("#") && !l.isBlank())
            .toList();
    assertThat(rows).hasSize(6);
    for (String row : rows) {
      String[] cols = row.split("\t");
      int sep = cols[0].indexOf('_'); // "{ns}_{comp}"; "_x_Backend" has an empty namespace
      String ns = cols[0].substring(0, sep);
      String comp = cols[0].substring(sep + 1);
      assertThat(ServiceNames.g1(ns, comp)).as("G1 of %s", cols[0]).isEqualTo(cols[1]);
      assertThat(ServiceNames.g2(ns, comp)).as("G2 of %s", cols[0]).isEqualTo(cols[2]);
    }
  }

  @Test
  void matchesTheSpecsKnownG1Names() {
    assertThat(ServiceNames.g1("dynamo", "my_component")).isEqualTo("dynamo_my_component_1854ce00");
    assertThat(ServiceNames.g1("dynamo", "MyComponent")).isEqualTo("dynamo_mycomponent_593024f1");
    assertThat(ServiceNames.g1("dynamo", "backend")).isEqualTo("dynamo_backend_9ce3f3b7");
    assertThat(ServiceNames.g1("dynamo", "VllmWorker")).isEqualTo("dynamo_vllmworker_3f6fafd3");
  }

  @Test
  void blake3AgreesWithAnIndependentImplementationAcrossChunkBoundaries() {
    Random random = new Random(42);
    for (int len :
        new int[] {
          0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 2049, 3072, 4096, 5000, 8193, 17_000
        }) {
      byte[] input = new byte[len];
      random.nextBytes(input);
      Blake3Digest bc = new Blake3Digest(256);
      bc.update(input, 0, len);
      byte[] expected = new byte[32];
      bc.doFinal(expected, 0);
      assertThat(Blake3.hash(input)).as("length %d", len).isEqualTo(expected);
    }
  }

  @Test
  void blake3OfTheEmptyStringIsTheStandardVector() {
    assertThat(Blake3.hex("".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  }

  @Test
  void bothNamesAreOfferedPlainFirst() {
    assertThat(ServiceNames.all("dynamo", "MyComponent"))
        .containsExactly("dynamo_mycomponent", "dynamo_mycomponent_593024f1");
  }
}
