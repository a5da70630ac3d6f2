package io.dynamometrics.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EndpointsTest {
  private static final Set<String> NATS = Set.of("nats", "tls");

  @Test
  void aBareHostGetsTheDefaultSchemeAndBlanksAreSkipped() {
    assertThat(Endpoints.parse("a:4222, tls://b:4222,", "--nats-server", "nats", NATS, 4222))
        .containsExactly(URI.create("nats://a:4222"), URI.create("tls://b:4222"));
  }

  @Test
  void badEntriesAreNamedWithTheSetting() {
    assertThatThrownBy(
            () ->
                Endpoints.parse("nats://a:4222,http://b:4222", "--nats-server", "nats", NATS, 4222))
        .hasMessage(
            "--nats-server entry 'http://b:4222' must look like nats://host:4222 or tls://host:4222");
    assertThatThrownBy(() -> Endpoints.parse("nats://a b", "--nats-server", "nats", NATS, 4222))
        .hasMessageStartingWith("--nats-server entry 'nats://a b' is not a URL");
    assertThatThrownBy(
            () -> Endpoints.parse(" , ", "ETCD_ENDPOINTS", "http", Set.of("http", "https"), 2379))
        .hasMessage("ETCD_ENDPOINTS is empty");
  }

  @Test
  void credentialsInUrlsAreNotLogged() {
    assertThat(
            Endpoints.redacted(
                "nats://alice:s3cret@a:4222,tls://t0k3n@b:4222, nats://c:4222,https://u:p@e/x@y"))
        .isEqualTo("nats://***@a:4222,tls://***@b:4222, nats://c:4222,https://***@e/x@y");
    assertThat(Endpoints.redacted(null)).isNull();
  }
}
