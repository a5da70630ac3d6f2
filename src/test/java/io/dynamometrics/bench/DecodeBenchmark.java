package io.dynamometrics.bench;

import io.dynamometrics.fleet.FleetSnapshot;
import io.dynamometrics.fleet.FleetState;
import io.dynamometrics.fleet.Target;
import io.dynamometrics.wire.ForwardPassMetrics;
import io.dynamometrics.wire.HitRateEvent;
import io.dynamometrics.wire.HitRateEventDecoder;
import io.dynamometrics.wire.ServiceNames;
import io.dynamometrics.wire.StatsEndpoint;
import io.dynamometrics.wire.StatsReplyDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hot path of a poll: decoding one worker's reply, one event, and folding 10,000 replies into a
 * snapshot.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class DecodeBenchmark {
  private final StatsReplyDecoder decoder =
      new StatsReplyDecoder(ServiceNames.all("dynamo", "VllmWorker"), "load_metrics");
  private byte[] g3Reply;
  private byte[] event;
  private List<StatsEndpoint> fleet;
  private final Target target = new Target("dynamo", "VllmWorker", "load_metrics");

  @Setup
  public void setUp() {
    g3Reply =
        ("{\"type\":\"io.nats.micro.v1.stats_response\",\"name\":\"dynamo_vllmworker\",\"id\":\"n3sT\",\"version\":\"0.0.1\","
                + "\"started\":\"2025-08-01T12:00:00.5Z\",\"endpoints\":[{\"name\":\"dynamo_vllmworker-load_metrics-694d951a80e06bb6\","
                + "\"subject\":\"dynamo_vllmworker.load_metrics-694d951a80e06bb6\",\"num_requests\":0,\"num_errors\":0,\"processing_time\":0,"
                + "\"average_processing_time\":0,\"last_error\":\"\",\"queue_group\":\"q\",\"data\":{\"worker_stats\":{\"data_parallel_rank\":null,"
                + "\"request_active_slots\":3,\"request_total_slots\":64,\"num_requests_waiting\":1},\"kv_stats\":{\"kv_active_blocks\":120,"
                + "\"kv_total_blocks\":2048,\"gpu_cache_usage_perc\":0.0585,\"gpu_prefix_cache_hit_rate\":0.4},\"spec_decode_stats\":null}},"
                + "{\"name\":\"dynamo_vllmworker-generate-694d951a80e06bb6\",\"subject\":\"dynamo_vllmworker.generate-694d951a80e06bb6\","
                + "\"num_requests\":2,\"num_errors\":0,\"processing_time\":107325,\"average_processing_time\":53662,\"last_error\":\"\","
                + "\"data\":null,\"queue_group\":\"q\"}]}")
            .getBytes(StandardCharsets.UTF_8);
    event =
        "{\"worker_id\":7587884888253033398,\"isl_blocks\":64,\"overlap_blocks\":48}"
            .getBytes(StandardCharsets.UTF_8);
    fleet = new ArrayList<>();
    for (long i = 1; i <= 10_000; i++) {
      fleet.add(
          new StatsEndpoint(
              "dynamo_vllmworker.load_metrics-" + Long.toHexString(i),
              i,
              new ForwardPassMetrics(i % 64, 64, i % 4096, 4096, i % 3, 0.5, 0.4, -1)));
    }
  }

  @Benchmark
  public StatsReplyDecoder.Result decodeStatsReply() {
    return decoder.decode(g3Reply);
  }

  @Benchmark
  public HitRateEvent decodeEvent() {
    return HitRateEventDecoder.decode(event);
  }

  /** One poll of 10,000 workers: record every reply, then build the snapshot readers see. */
  @Benchmark
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public FleetSnapshot aggregate10k() {
    FleetState state = new FleetState(3);
    state.record(target, fleet, fleet.size(), 0, 1, 1);
    return state.snapshot(2, true);
  }
}
