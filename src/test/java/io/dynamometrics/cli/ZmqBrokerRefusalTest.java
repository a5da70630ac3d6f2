package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dynamo's ZMQ broker mode is refused with one line that names the setting and the way out. */
class ZmqBrokerRefusalTest {
  @Test
  void brokerSettingsAreRefusedNamingTheValueAndTheFix() {
    assertThatThrownBy(
            () -> AggregateCommand.refuseZmqBroker(Map.of("DYN_ZMQ_BROKER_URL", "tcp://b:5555")))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith("DYN_ZMQ_BROKER_URL=tcp://b:5555: ")
        .hasMessageContaining("not supported")
        .hasMessageContaining("DYN_EVENT_PLANE=nats")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(
            () -> AggregateCommand.refuseZmqBroker(Map.of("DYN_ZMQ_BROKER_ENABLED", "true")))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith("DYN_ZMQ_BROKER_ENABLED=true: ");
  }

  @Test
  void withoutThemOrSwitchedOffNothingIsRefused() {
    assertThatCode(() -> AggregateCommand.refuseZmqBroker(Map.of())).doesNotThrowAnyException();
    assertThatCode(
            () ->
                AggregateCommand.refuseZmqBroker(
                    Map.of("DYN_ZMQ_BROKER_ENABLED", "false", "DYN_ZMQ_BROKER_URL", " ")))
        .doesNotThrowAnyException();
  }
}
