package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SubjectsTest {
  @Test
  void workerIdIsTheLastDashPieceReadAsHex() {
    assertThat(Subjects.workerId("dynamo_vllmworker_3f6fafd3.generate-694d951a80e06bb6"))
        .isEqualTo(7587884888253033398L);
    assertThat(Subjects.workerId("dynamo_prefill-worker.load_metrics-1f")).isEqualTo(31L);
  }

  @Test
  void staticEndpointsAndOversizedIdsHaveNoWorkerId() {
    assertThat(Subjects.workerId("dynamo_backend.generate")).isNull();
    assertThat(Subjects.workerId("dynamo_backend.generate-")).isNull();
    assertThat(Subjects.workerId("dynamo_backend.my-endpoint")).isNull();
    assertThat(Subjects.workerId("dynamo_backend.ep-ffffffffffffffff"))
        .as("above i64::MAX")
        .isNull();
    assertThat(Subjects.workerId("dynamo_backend.ep-10000000000000000")).as("17 digits").isNull();
    assertThat(Subjects.workerId("dynamo_backend.ep-+1f")).isNull();
  }

  @Test
  void endpointSubjectUsesLowercaseHexWithoutPadding() {
    assertThat(Subjects.endpoint("dynamo_backend", "generate", 0x1fL))
        .isEqualTo("dynamo_backend.generate-1f");
    assertThat(Subjects.l2c("dynamo", "MyComponent", "my_endpoint"))
        .isEqualTo("namespace.dynamo.l2c.MyComponent.my_endpoint");
    assertThat(Subjects.hitRate("Dyn")).isEqualTo("namespace.Dyn.kv-hit-rate");
  }
}
