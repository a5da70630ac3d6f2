package io.dynamometrics.gpu;

import io.dynamometrics.log.Log;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Every GPU's state from NVML under dcgm-exporter's names and labels, so that the GPU dashboard and
 * alerts work where DCGM is not installed. Sampled on its own thread every poll interval; a scrape
 * reads the last sample. A call a GPU does not support leaves that series out (as dcgm-exporter
 * does); a GPU that stops answering (fallen off the bus) loses its series, and every failed sample
 * is counted in {@code dynamo_metrics_gpu_errors_total{gpu,reason}} and logged when it starts and
 * ends, never thrown.
 */
public final class GpuMetrics implements MultiCollector, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(GpuMetrics.class.getName());
  private static final double MIB = 1024 * 1024;

  /** The families, in dcgm-exporter's names, with its help texts and units. */
  enum Field {
    GPU_UTIL("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %)."),
    MEM_COPY_UTIL("DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %)."),
    FB_USED("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB)."),
    FB_FREE("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB)."),
    GPU_TEMP("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C)."),
    MEMORY_TEMP("DCGM_FI_DEV_MEMORY_TEMP", "Memory temperature (in C)."),
    POWER_USAGE("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W)."),
    SM_CLOCK("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz)."),
    MEM_CLOCK("DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency (in MHz)."),
    TOTAL_ENERGY_CONSUMPTION(
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "Total energy consumption since boot (in mJ); a counter, typed gauge to keep dcgm-exporter's name."),
    XID_ERRORS("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered."),
    PCIE_REPLAY_COUNTER(
        "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
        "Total number of PCIe retries; a counter, typed gauge to keep dcgm-exporter's name.");

    final String metric;
    final String help;

    Field(String metric, String help) {
      this.metric = metric;
      this.help = help;
    }
  }

  /** One GPU as found at start: its index, NVML handle and dcgm-exporter's labels. */
  private record Gpu(int index, long handle, Labels labels) {}

  /** One sample of every GPU: values by field, per GPU index. */
  private record Sample(Map<Integer, Map<Field, Double>> values) {}

  private final Nvml nvml;
  private final List<Gpu> gpus;
  private final Map<Long, Integer> indexByHandle = new HashMap<>();
  private final Map<Integer, Long> lastXid = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> errors = new ConcurrentHashMap<>(); // "gpu\0reason"
  private final Set<String> reported =
      ConcurrentHashMap.newKeySet(); // log once per gpu/field/reason
  private final Set<Integer> failing = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService sampler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("gpu-sampler").factory());
  private volatile Sample last = new Sample(Map.of());

  private GpuMetrics(Nvml nvml, List<Gpu> gpus) {
    this.nvml = nvml;
    this.gpus = gpus;
    for (Gpu g : gpus) {
      indexByHandle.put(g.handle(), g.index());
      lastXid.put(g.index(), 0L);
    }
  }

  /**
   * Finds every GPU and starts sampling them every {@code interval}.
   *
   * @throws NvmlException when NVML cannot list the GPUs at all
   */
  public static GpuMetrics start(Nvml nvml, Duration interval) throws NvmlException {
    String driver = nvml.driverVersion();
    String host = hostname();
    List<Gpu> gpus = new ArrayList<>();
    int count = nvml.deviceCount();
    for (int i = 0; i < count; i++) {
      long h = nvml.handle(i);
      Labels labels =
          Labels.of(
              "gpu", Integer.toString(i),
              "UUID", nvml.uuid(h),
              "pci_bus_id", nvml.pciBusId(h),
              "device", "nvidia" + nvml.minorNumber(h),
              "modelName", nvml.name(h),
              "Hostname", host,
              "DCGM_FI_DRIVER_VERSION", driver);
      gpus.add(new Gpu(i, h, labels));
      LOG.info(
          "GPU "
              + i
              + ": "
              + labels.get("modelName")
              + " "
              + labels.get("UUID")
              + " at "
              + labels.get("pci_bus_id"));
    }
    GpuMetrics m = new GpuMetrics(nvml, List.copyOf(gpus));
    try {
      nvml.watchXids(gpus.stream().map(Gpu::handle).toList());
    } catch (NvmlException e) {
      LOG.warning("XID errors will not be reported: " + e.getMessage());
    }
    m.sample();
    var unused = // ends with the executor in close(); sample() catches what a GPU throws
        m.sampler.scheduleAtFixedRate(
            m::sampleSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    LOG.info(
        "reading "
            + gpus.size()
            + " GPU(s) through NVML "
            + driver
            + " every "
            + interval.toMillis()
            + " ms");
    return m;
  }

  private static String hostname() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }

  private void sampleSafely() {
    try {
      sample();
    } catch (RuntimeException e) { // a bug of ours must not end the schedule
      LOG.warning("GPU sample failed: " + e);
    }
  }

  /** Reads every GPU once; what fails is counted and left out. */
  void sample() {
    try {
      for (Nvml.Xid x : nvml.pendingXids()) {
        Integer index = indexByHandle.get(x.handle());
        if (index != null) {
          lastXid.put(index, x.xid());
          Log.log(
              LOG,
              Level.WARNING,
              "GPU " + index + " reported XID " + x.xid(),
              io.dynamometrics.log.Field.of("gpu", index),
              io.dynamometrics.log.Field.of("xid", x.xid()));
        }
      }
    } catch (NvmlException e) {
      count(-1, e);
    }
    Map<Integer, Map<Field, Double>> values = new TreeMap<>();
    for (Gpu g : gpus) {
      Map<Field, Double> v = new LinkedHashMap<>();
      long h = g.handle();
      boolean lost = false;
      try {
        int[] util = read(g, Field.GPU_UTIL, () -> nvml.utilization(h));
        if (util != null) {
          v.put(Field.GPU_UTIL, (double) util[0]);
          v.put(Field.MEM_COPY_UTIL, (double) util[1]);
        }
        long[] mem = read(g, Field.FB_USED, () -> nvml.memory(h));
        if (mem != null) {
          v.put(Field.FB_FREE, Math.floor(mem[1] / MIB));
          v.put(Field.FB_USED, Math.floor(mem[2] / MIB));
        }
        put(v, g, Field.GPU_TEMP, () -> (double) nvml.gpuTemperature(h));
        put(v, g, Field.MEMORY_TEMP, () -> (double) nvml.memoryTemperature(h));
        put(v, g, Field.POWER_USAGE, () -> nvml.powerMilliwatts(h) / 1000.0);
        put(v, g, Field.SM_CLOCK, () -> (double) nvml.clockMhz(h, Nvml.CLOCK_SM));
        put(v, g, Field.MEM_CLOCK, () -> (double) nvml.clockMhz(h, Nvml.CLOCK_MEM));
        put(v, g, Field.TOTAL_ENERGY_CONSUMPTION, () -> (double) nvml.totalEnergyMillijoules(h));
        put(v, g, Field.PCIE_REPLAY_COUNTER, () -> (double) nvml.pcieReplays(h));
        v.put(Field.XID_ERRORS, (double) lastXid.getOrDefault(g.index(), 0L));
      } catch (NvmlException e) { // the GPU as a whole failed (lost): no series for it
        lost = true;
        count(g.index(), e);
        if (failing.add(g.index())) {
          LOG.severe(
              "GPU "
                  + g.index()
                  + " ("
                  + g.labels().get("UUID")
                  + ") stopped answering: "
                  + e.getMessage()
                  + "; its series are left out until it answers again");
        }
      }
      if (!lost) {
        if (failing.remove(g.index())) {
          LOG.info("GPU " + g.index() + " answers again");
        }
        values.put(g.index(), v);
      }
    }
    last = new Sample(values);
  }

  private interface Call<T> {
    T get() throws NvmlException;
  }

  /**
   * One call for one series: an unsupported call gives {@code null} (logged once); a GPU that is
   * lost throws on, so that the whole GPU is left out.
   */
  private <T> T read(Gpu g, Field field, Call<T> call) throws NvmlException {
    try {
      return call.get();
    } catch (NvmlException e) {
      if (e.code() == NvmlException.GPU_IS_LOST) {
        throw e;
      }
      count(g.index(), e);
      if (reported.add(g.index() + "/" + field + "/" + e.reason())) {
        LOG.info("GPU " + g.index() + ": " + field.metric + " left out: " + e.getMessage());
      }
      return null;
    }
  }

  private void put(Map<Field, Double> v, Gpu g, Field field, Call<Double> call)
      throws NvmlException {
    Double value = read(g, field, call);
    if (value != null) {
      v.put(field, value);
    }
  }

  private void count(int gpu, NvmlException e) {
    if (e.unsupported()) {
      return; // a property of the GPU, not an error: the series is simply absent
    }
    errors
        .computeIfAbsent(
            (gpu < 0 ? "all" : Integer.toString(gpu)) + "\u0000" + e.reason(),
            k -> new AtomicLong())
        .incrementAndGet();
  }

  @Override
  public MetricSnapshots collect() {
    Sample s = last;
    List<MetricSnapshot> out = new ArrayList<>();
    for (Field f : Field.values()) {
      List<GaugeDataPointSnapshot> points = new ArrayList<>();
      for (Gpu g : gpus) {
        Map<Field, Double> v = s.values().get(g.index());
        if (v != null && v.containsKey(f)) {
          points.add(new GaugeDataPointSnapshot(v.get(f), g.labels(), null));
        }
      }
      if (!points.isEmpty()) {
        out.add(new GaugeSnapshot(new MetricMetadata(f.metric, f.help), points));
      }
    }
    List<CounterDataPointSnapshot> counts = new ArrayList<>();
    new TreeMap<>(errors)
        .forEach(
            (key, n) -> {
              String[] gr = key.split("\u0000");
              counts.add(
                  new CounterDataPointSnapshot(
                      n.get(), Labels.of("gpu", gr[0], "reason", gr[1]), null, 0));
            });
    out.add(
        new CounterSnapshot(
            new MetricMetadata(
                "dynamo_metrics_gpu_errors",
                "NVML calls that failed, per GPU (\"all\" for calls about every GPU) and reason: gpu_lost, nvml_N"),
            counts));
    return new MetricSnapshots(out);
  }

  @Override
  public void close() {
    sampler.shutdownNow();
    try {
      sampler.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    nvml.close();
  }
}
