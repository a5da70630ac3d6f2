package io.dynamometrics.wire;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What the mock worker pushes decodes to what it meant, in every release's form. */
class PushEncoderTest {
  private static final long BIG = Long.parseUnsignedLong("18000000000000000000"); // >= 2^63

  @Test
  void jsonWithDataRoundTrips() {
    ForwardPassMetrics m = new ForwardPassMetrics(3, 8, 40, 100, 2, 0.5, 0.25, -1, true);
    Pushed.Load l =
        (Pushed.Load) PushDecoder.decode("kv_metrics", PushEncoder.jsonWithData(BIG, m));
    assertThat(l.workerId()).isEqualTo(BIG);
    assertThat(l.metrics()).isEqualTo(m);
  }

  @Test
  void activeLoadJsonRoundTrips() {
    Pushed.Load l =
        (Pushed.Load) PushDecoder.decode("kv_metrics", PushEncoder.activeLoadJson(7, 1, 40));
    assertThat(l.metrics().value(ForwardPassMetrics.KV_ACTIVE)).isEqualTo(40);
    assertThat(l.metrics().dpRank()).isEqualTo(1);
    assertThat(l.fromRouter()).isFalse();
  }

  @Test
  void envelopesRoundTrip() {
    byte[] load =
        PushEncoder.envelope(
            BIG, 5, 1_800_000_000_000L, "kv_metrics", PushEncoder.activeLoad(BIG, 2, 30, 40));
    Pushed.Load l = (Pushed.Load) PushDecoder.decode("kv_metrics", load);
    assertThat(l.envelope()).isEqualTo(new Envelope(BIG, 5, 1_800_000_000_000L, "kv_metrics"));
    assertThat(l.workerId()).isEqualTo(BIG);
    assertThat(l.metrics().value(ForwardPassMetrics.KV_ACTIVE)).isEqualTo(40);
    assertThat(l.metrics().value(ForwardPassMetrics.DECODE_BLOCKS)).isEqualTo(30);
    byte[] hit = PushEncoder.envelope(1, 0, 0, "kv-hit-rate", PushEncoder.hitRate(BIG, 0, 8, 3));
    assertThat(((Pushed.HitRate) PushDecoder.decode("kv-hit-rate", hit)).event())
        .isEqualTo(new HitRateEvent(BIG, 8, 3));
  }
}
