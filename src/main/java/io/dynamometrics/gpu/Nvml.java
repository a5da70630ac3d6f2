package io.dynamometrics.gpu;

import java.util.List;

/**
 * The calls into NVML ({@code libnvidia-ml.so}) the GPU collector makes. Devices are named by the
 * opaque handle NVML gives ({@link #handle}). Every call throws {@link NvmlException} with NVML's
 * code when NVML refuses it.
 */
public interface Nvml extends AutoCloseable {
  /** {@code nvmlDeviceGetClockInfo}'s clock types. */
  int CLOCK_SM = 1;

  int CLOCK_MEM = 2;

  /**
   * Loads NVML from {@code library} (a name the dynamic linker finds, or a path) and initialises
   * it.
   *
   * @throws NvmlException naming what failed: loading, or {@code nvmlInit_v2} with NVML's reason
   */
  static Nvml load(String library) throws NvmlException {
    return NativeNvml.open(library);
  }

  /** One XID error NVML reported: the device's handle and the XID. */
  record Xid(long handle, long xid) {}

  String driverVersion() throws NvmlException;

  int deviceCount() throws NvmlException;

  long handle(int index) throws NvmlException;

  String name(long device) throws NvmlException;

  String uuid(long device) throws NvmlException;

  /** The PCI bus id, as {@code 00000000:18:00.0}. */
  String pciBusId(long device) throws NvmlException;

  /** The minor number of {@code /dev/nvidiaN}. */
  int minorNumber(long device) throws NvmlException;

  /** GPU and memory-copy utilization in percent over NVML's last sample period. */
  int[] utilization(long device) throws NvmlException;

  /** Frame buffer memory in bytes: total, free, used. */
  long[] memory(long device) throws NvmlException;

  /** GPU die temperature in °C. */
  int gpuTemperature(long device) throws NvmlException;

  /** Memory (HBM) temperature in °C, through NVML's field values. */
  long memoryTemperature(long device) throws NvmlException;

  int powerMilliwatts(long device) throws NvmlException;

  int clockMhz(long device, int clock) throws NvmlException;

  long totalEnergyMillijoules(long device) throws NvmlException;

  long pcieReplays(long device) throws NvmlException;

  /** Starts collecting XID errors of these devices. */
  void watchXids(List<Long> devices) throws NvmlException;

  /** The XID errors reported since the last call, without waiting. */
  List<Xid> pendingXids() throws NvmlException;

  @Override
  void close();
}
