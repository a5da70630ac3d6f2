package io.dynamometrics.wire;

import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * One worker's {@code data}, as a poll decodes it 10,000 times: streamed into slots (what the
 * decoder does) beside read as a tree and then decoded (what it did before, and still does for what
 * the stream does not take), in both wire forms.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class DataDecodeBenchmark {
  private final byte[] flat =
      ("{\"request_active_slots\":3,\"request_total_slots\":64,\"kv_active_blocks\":120,"
              + "\"kv_total_blocks\":2048,\"num_requests_waiting\":1,\"gpu_cache_usage_perc\":0.0585,"
              + "\"gpu_prefix_cache_hit_rate\":0.4,\"data_parallel_rank\":null}")
          .getBytes(StandardCharsets.UTF_8);
  private final byte[] nested =
      ("{\"worker_stats\":{\"data_parallel_rank\":null,\"request_active_slots\":3,"
              + "\"request_total_slots\":64,\"num_requests_waiting\":1},\"kv_stats\":{"
              + "\"kv_active_blocks\":120,\"kv_total_blocks\":2048,\"gpu_cache_usage_perc\":0.0585,"
              + "\"gpu_prefix_cache_hit_rate\":0.4},\"spec_decode_stats\":null}")
          .getBytes(StandardCharsets.UTF_8);

  private static ForwardPassMetrics streamed(byte[] data) throws IOException {
    try (JsonParser p = Json.parser(data)) {
      p.nextToken();
      return MetricsDecoder.stream(p, data);
    }
  }

  private static ForwardPassMetrics tree(byte[] data) throws IOException {
    return MetricsDecoder.decode(Json.mapper().readTree(data));
  }

  @Benchmark
  public ForwardPassMetrics flatStreamed() throws IOException {
    return streamed(flat);
  }

  @Benchmark
  public ForwardPassMetrics flatTree() throws IOException {
    return tree(flat);
  }

  @Benchmark
  public ForwardPassMetrics nestedStreamed() throws IOException {
    return streamed(nested);
  }

  @Benchmark
  public ForwardPassMetrics nestedTree() throws IOException {
    return tree(nested);
  }
}
