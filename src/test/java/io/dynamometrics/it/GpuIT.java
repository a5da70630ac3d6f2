package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynamometrics.export.Series;
import io.dynamometrics.it.Exposition.Sample;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code --gpu} against a fake libnvidia-ml.so through the same FFM path a real driver takes: every
 * dcgm-exporter series with its labels and units, NVML's errors (not supported, GPU lost, XID
 * events), and the one-line exits when NVML cannot be used.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GpuIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final List<String> SERIES = Series.NVML;

  @RegisterExtension final Started started = new Started();
  private String library;

  @BeforeAll
  void compile() throws Exception {
    library = FakeNvml.library().toString();
  }

  private int serve(FakeNvml fake, String log) throws Exception {
    int port = Servers.freePort();
    started.jar(
        log,
        fake.env(),
        "demo",
        "--workers",
        "1",
        "--poll-interval",
        "0.25",
        "--host",
        "127.0.0.1",
        "--port",
        Integer.toString(port),
        "--gpu",
        "--nvml-library",
        library);
    return port;
  }

  private static Map<String, String> gpu(int index) {
    return Map.of("gpu", Integer.toString(index));
  }

  @Test
  void everySeriesHasDcgmExportersNameLabelsAndUnits() throws Exception {
    FakeNvml fake = new FakeNvml();
    int port = serve(fake, "gpu-series");
    String body = Jar.await(port, "/metrics", b -> b.contains("DCGM_FI_DEV_XID_ERRORS{"), WAIT);
    Exposition e = Exposition.parse(body);
    for (String name : SERIES) {
      assertThat(body)
          .as(name + " is typed as dcgm-exporter's gauges are")
          .contains("# TYPE " + name + " gauge");
    }
    Map<String, String> labels0 = e.find("DCGM_FI_DEV_GPU_UTIL", gpu(0)).orElseThrow().labels();
    assertThat(labels0)
        .containsEntry("UUID", fake.value("gpu0.uuid"))
        .containsEntry("pci_bus_id", "00000000:18:00.0")
        .containsEntry("device", "nvidia0")
        .containsEntry("modelName", "NVIDIA H200")
        .containsEntry("DCGM_FI_DRIVER_VERSION", "550.54.15")
        .containsKey("Hostname")
        .hasSize(7);
    Map<String, Double> expected0 = new HashMap<>();
    expected0.put("DCGM_FI_DEV_GPU_UTIL", 37.0);
    expected0.put("DCGM_FI_DEV_MEM_COPY_UTIL", 12.0);
    expected0.put("DCGM_FI_DEV_FB_USED", Math.floor(50_754_820_096.0 / (1 << 20))); // MiB
    expected0.put("DCGM_FI_DEV_FB_FREE", Math.floor(100_000_000_000.0 / (1 << 20)));
    expected0.put("DCGM_FI_DEV_GPU_TEMP", 41.0);
    expected0.put("DCGM_FI_DEV_MEMORY_TEMP", 38.0);
    expected0.put("DCGM_FI_DEV_POWER_USAGE", 123.456); // W from mW
    expected0.put("DCGM_FI_DEV_SM_CLOCK", 1980.0);
    expected0.put("DCGM_FI_DEV_MEM_CLOCK", 2619.0);
    expected0.put("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 987_654_321.0); // mJ
    expected0.put("DCGM_FI_DEV_XID_ERRORS", 0.0);
    expected0.put("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", 3.0);
    assertThat(expected0.keySet()).containsExactlyInAnyOrderElementsOf(SERIES);
    expected0.forEach(
        (name, value) ->
            assertThat(e.find(name, gpu(0)).orElseThrow().value()).as(name).isEqualTo(value));
    assertThat(e.find("DCGM_FI_DEV_GPU_UTIL", gpu(1)).orElseThrow().value()).isEqualTo(90.0);
    assertThat(e.find("DCGM_FI_DEV_POWER_USAGE", gpu(1)).orElseThrow().value()).isEqualTo(650.0);
    assertThat(e.find("DCGM_FI_DEV_FB_FREE", gpu(1)).orElseThrow().value()).isEqualTo(1.0);
    // not supported by gpu1: left out, as dcgm-exporter does, and not counted as an error
    assertThat(e.find("DCGM_FI_DEV_MEMORY_TEMP", gpu(1))).isEmpty();
    assertThat(e.named("dynamo_metrics_gpu_errors_total")).isEmpty();

    // values follow the GPU
    fake.set("gpu0.util", "99");
    fake.set("gpu0.power_mw", "700000");
    Jar.await(
        port,
        "/metrics",
        b -> {
          Exposition x = Exposition.parse(b);
          return x.find("DCGM_FI_DEV_GPU_UTIL", gpu(0)).map(Sample::value).orElse(0.0) == 99.0
              && x.find("DCGM_FI_DEV_POWER_USAGE", gpu(0)).map(Sample::value).orElse(0.0) == 700.0;
        },
        WAIT);
  }

  @Test
  void aLostGpuIsCountedAndLeftOutAndXidErrorsAreReported() throws Exception {
    FakeNvml fake = new FakeNvml();
    int port = serve(fake, "gpu-faults");
    Jar.await(port, "/metrics", b -> b.contains("DCGM_FI_DEV_XID_ERRORS{"), WAIT);

    fake.set("gpu0.xid", "79");
    fake.set("gpu0.xid_serial", "1");
    Jar.await(
        port,
        "/metrics",
        b ->
            Exposition.parse(b)
                    .find("DCGM_FI_DEV_XID_ERRORS", gpu(0))
                    .map(Sample::value)
                    .orElse(0.0)
                == 79.0,
        WAIT);

    fake.set("gpu1.lost", "1"); // fallen off the bus
    String lost =
        Jar.await(
            port,
            "/metrics",
            b -> {
              Exposition x = Exposition.parse(b);
              return x.find("DCGM_FI_DEV_GPU_UTIL", gpu(1)).isEmpty()
                  && x.find(
                              "dynamo_metrics_gpu_errors_total",
                              Map.of("gpu", "1", "reason", "gpu_lost"))
                          .map(Sample::value)
                          .orElse(0.0)
                      >= 2;
            },
            WAIT);
    Exposition x = Exposition.parse(lost);
    assertThat(x.find("DCGM_FI_DEV_GPU_UTIL", gpu(0)))
        .as("the other GPU is still read")
        .isPresent();
    assertThat(Jar.get(port, "/healthz").statusCode()).isEqualTo(200);
    assertThat(started.lastProcess().isAlive()).isTrue();

    fake.set("gpu1.lost", "0"); // back (after a reset)
    Jar.await(
        port,
        "/metrics",
        b -> Exposition.parse(b).find("DCGM_FI_DEV_GPU_UTIL", gpu(1)).isPresent(),
        WAIT);
    String log = Files.readString(Jar.LOGS.resolve("gpu-faults.log"));
    assertThat(log)
        .contains("GPU 0 reported XID 79")
        .contains("GPU 1 (GPU-9f1e2d3c")
        .contains("stopped answering")
        .contains("GPU 1 answers again")
        .doesNotContain("\tat ");
    assertThat(log.split("stopped answering", -1)).as("logged once, not every poll").hasSize(2);
  }

  @Test
  void nvmlThatCannotBeUsedIsOneLineAndExitCode2() throws Exception {
    Jar.Result missing =
        Jar.run(
            "demo",
            "--gpu",
            "--nvml-library",
            "/nonexistent/libnvidia-ml.so.1",
            "--port",
            Integer.toString(Servers.freePort()));
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.output().strip())
        .startsWith(
            "dynamo-metrics: --gpu: cannot use NVML from /nonexistent/libnvidia-ml.so.1: cannot load it")
        .doesNotContain("\tat ")
        .hasLineCount(1);

    // this machine's own: no NVIDIA driver, so the default library is not there
    Jar.Result here = Jar.run("demo", "--gpu", "--port", Integer.toString(Servers.freePort()));
    assertThat(here.exitCode()).isEqualTo(2);
    assertThat(here.output().strip())
        .startsWith("dynamo-metrics: --gpu: cannot use NVML from libnvidia-ml.so.1: cannot load it")
        .hasLineCount(1);

    FakeNvml noDriver = new FakeNvml();
    noDriver.set("init", "9"); // NVML_ERROR_DRIVER_NOT_LOADED
    Jar.Result init =
        Jar.run(
            noDriver.env(),
            "demo",
            "--gpu",
            "--nvml-library",
            library,
            "--port",
            Integer.toString(Servers.freePort()));
    assertThat(init.exitCode()).isEqualTo(2);
    assertThat(init.output().strip())
        .contains("--gpu: cannot use NVML from " + library)
        .contains("nvmlInit_v2: Driver Not Loaded (NVML error 9)")
        .doesNotContain("\tat ");
  }
}
