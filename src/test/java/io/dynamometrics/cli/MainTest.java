package io.dynamometrics.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.log.ServiceLogManager;
import org.junit.jupiter.api.Test;

class MainTest {
  /** The log manager is named as a string (loading it early would fix the JDK's default). */
  @Test
  void theLogManagerNamedIsOurs() {
    assertThat(Main.LOG_MANAGER).isEqualTo(ServiceLogManager.class.getName());
  }
}
