package io.dynamometrics.wire;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One worker's whole stats reply, as a poll of 10,000 workers decodes 10,000 of them: read by the
 * byte scanner (what the decoder does) beside the JSON parser (what it did before, and still does
 * for what the scanner does not take), for a flat (G2, jnats style) and a nested (G3) reply.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class ReplyDecodeBenchmark {
  private final StatsReplyDecoder g2 =
      new StatsReplyDecoder(List.of("dynamo_my_component"), "my_endpoint");
  private final StatsReplyDecoder g3 =
      new StatsReplyDecoder(List.of("dynamo_vllmworker"), "load_metrics");
  private final byte[] flat = Fixtures.bytes("stats-g2-jnats-style.json");
  private final byte[] nested = Fixtures.bytes("stats-g3-nested.json");

  @Benchmark
  public StatsReplyDecoder.Result flatScanned() {
    return g2.decode(flat);
  }

  @Benchmark
  public StatsReplyDecoder.Result flatParsed() {
    return g2.parse(flat);
  }

  @Benchmark
  public StatsReplyDecoder.Result nestedScanned() {
    return g3.decode(nested);
  }

  @Benchmark
  public StatsReplyDecoder.Result nestedParsed() {
    return g3.parse(nested);
  }
}
