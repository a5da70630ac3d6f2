package io.dynamometrics.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalTransportWildcardTest {
  @Test
  void subjectsMatchAsInNats() {
    assertThat(LocalTransport.matches("a.*.c", "a.b.c")).isTrue();
    assertThat(LocalTransport.matches("a.*.c", "a.b.d")).isFalse();
    assertThat(LocalTransport.matches("a.*", "a.b.c")).isFalse();
    assertThat(LocalTransport.matches("a.>", "a.b.c")).isTrue();
    assertThat(LocalTransport.matches("a.>", "a")).isFalse();
    assertThat(LocalTransport.matches("a.b", "a.b")).isTrue();
  }

  @Test
  void aWildcardSubscriberReceivesUntilItCloses() {
    LocalTransport bus = new LocalTransport();
    List<String> got = new ArrayList<>();
    Transport.Subscription sub =
        bus.subscribe("ns.component.*.endpoint.*.kv_metrics", null, m -> got.add(m.subject()));
    bus.publish("ns.component.c.endpoint.e.kv_metrics", new byte[0]);
    bus.publish("ns.component.c.kv_metrics", new byte[0]);
    sub.close();
    bus.publish("ns.component.c.endpoint.e.kv_metrics", new byte[0]);
    assertThat(got).containsExactly("ns.component.c.endpoint.e.kv_metrics");
  }
}
