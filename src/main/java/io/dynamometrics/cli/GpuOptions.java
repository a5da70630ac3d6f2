package io.dynamometrics.cli;

import picocli.CommandLine.Option;

/** GPUs read from NVML: off by default. */
final class GpuOptions {
  @Option(
      names = "--gpu",
      description =
          "Also export every GPU's state, read from NVML (the driver's libnvidia-ml) through Java's FFM API, "
              + "under dcgm-exporter's names and labels (DCGM_FI_DEV_*), for hosts without DCGM. "
              + "Exits with one line when NVML cannot be loaded or initialised.")
  boolean enabled;

  @Option(
      names = "--nvml-library",
      defaultValue = "libnvidia-ml.so.1",
      paramLabel = "LIB",
      description =
          "With --gpu: NVML, a name the dynamic linker finds or a path (default: ${DEFAULT-VALUE}).")
  String library;
}
