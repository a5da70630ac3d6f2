package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fake {@code libnvidia-ml.so} (src/test/c/fake_nvml.c, compiled with gcc once per build) and the
 * values it answers with, in a file the test can change while the service runs.
 */
public final class FakeNvml {
  public static final Path SOURCE = Path.of("src/test/c/fake_nvml.c");
  public static final Path LIBRARY = Path.of("target/fake-nvml/libnvidia-ml.so.1").toAbsolutePath();

  private final Path config;
  private final Map<String, String> values = new LinkedHashMap<>();

  /** Two H200s with distinct values; gpu1 has no memory temperature (not supported). */
  public FakeNvml() throws Exception {
    config = Files.createTempFile("fake-nvml", ".conf");
    values.putAll(
        Map.ofEntries(
            Map.entry("init", "0"), Map.entry("driver", "550.54.15"), Map.entry("count", "2")));
    gpu(
        0,
        "GPU-0d6c1c5e-8f0b-4b1e-9a42-000000000000",
        "00000000:18:00.0",
        37,
        12,
        50_754_820_096L,
        100_000_000_000L,
        41,
        "38",
        123_456,
        1980,
        2619,
        987_654_321L,
        3);
    gpu(
        1,
        "GPU-9f1e2d3c-4b5a-6978-8a9b-111111111111",
        "00000000:2A:00.0",
        90,
        50,
        150_753_771_520L,
        1_048_576L,
        70,
        "unsupported",
        650_000,
        1755,
        2619,
        5L,
        0);
    write();
  }

  private void gpu(
      int i,
      String uuid,
      String bus,
      int util,
      int memutil,
      long used,
      long free,
      int temp,
      String memtemp,
      int powerMw,
      int sm,
      int mem,
      long energy,
      int replay) {
    String p = "gpu" + i + ".";
    values.put(p + "name", "NVIDIA H200");
    values.put(p + "uuid", uuid);
    values.put(p + "busid", bus);
    values.put(p + "minor", Integer.toString(i));
    values.put(p + "util", Integer.toString(util));
    values.put(p + "memutil", Integer.toString(memutil));
    values.put(p + "fb_total", Long.toString(used + free));
    values.put(p + "fb_used", Long.toString(used));
    values.put(p + "fb_free", Long.toString(free));
    values.put(p + "temp", Integer.toString(temp));
    values.put(p + "memtemp", memtemp);
    values.put(p + "power_mw", Integer.toString(powerMw));
    values.put(p + "sm_clock", Integer.toString(sm));
    values.put(p + "mem_clock", Integer.toString(mem));
    values.put(p + "energy_mj", Long.toString(energy));
    values.put(p + "replay", Integer.toString(replay));
  }

  /** The fake library, compiled from its source when missing or older. */
  public static synchronized Path library() throws Exception {
    if (!Files.exists(LIBRARY)
        || Files.getLastModifiedTime(LIBRARY).compareTo(Files.getLastModifiedTime(SOURCE)) < 0) {
      Files.createDirectories(LIBRARY.getParent());
      Process gcc =
          new ProcessBuilder(
                  "gcc",
                  "-shared",
                  "-fPIC",
                  "-O1",
                  "-Wall",
                  "-Wextra",
                  "-Werror",
                  "-o",
                  LIBRARY.toString(),
                  SOURCE.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(gcc.waitFor()).as("gcc (see bin/test): " + out).isZero();
    }
    return LIBRARY;
  }

  public String value(String key) {
    return values.get(key);
  }

  /** Changes one value; the service sees it at its next sample. */
  public void set(String key, String value) throws Exception {
    values.put(key, value);
    write();
  }

  /** The environment that points the fake at this test's values. */
  public Map<String, String> env() {
    return Map.of("FAKE_NVML_CONFIG", config.toString());
  }

  private void write() throws Exception {
    StringBuilder sb = new StringBuilder();
    values.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    Path tmp = Files.createTempFile(config.getParent(), "fake-nvml", ".tmp");
    Files.writeString(tmp, sb);
    Files.move(tmp, config, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
