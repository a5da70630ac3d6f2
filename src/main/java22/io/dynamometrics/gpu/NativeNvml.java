package io.dynamometrics.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * NVML through the Java FFM API: {@code libnvidia-ml.so} is looked up as the dynamic linker would
 * (or at the path given), and each function is bound on first use. No native code of ours.
 */
@SuppressWarnings("restricted") // native access is the point; the jar's manifest enables it
final class NativeNvml implements Nvml {
  private static final int NAME_SIZE = 96; // NVML_DEVICE_NAME_V2_BUFFER_SIZE
  private static final int UUID_SIZE = 96; // NVML_DEVICE_UUID_V2_BUFFER_SIZE is 96 too
  private static final int VERSION_SIZE = 80; // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE
  private static final MemoryLayout PCI_INFO =
      MemoryLayout.sequenceLayout(
          17, JAVA_INT); // nvmlPciInfo_t: char[16], 5 x uint, char[32]: 68 bytes
  private static final long PCI_BUS_ID_OFFSET = 36;
  private static final long FIELD_VALUE_SIZE = 40; // nvmlFieldValue_t
  private static final int FI_DEV_MEMORY_TEMP = 82;
  private static final long EVENT_DATA_SIZE = 32; // nvmlEventData_t
  private static final long EVENT_TYPE_XID_CRITICAL_ERROR = 0x8;

  private final Linker linker = Linker.nativeLinker();
  private final SymbolLookup library;
  private final Map<String, MethodHandle> functions = new ConcurrentHashMap<>();
  private volatile MemorySegment eventSet;

  private NativeNvml(SymbolLookup library) {
    this.library = library;
  }

  /** Loads {@code library} and initialises NVML. */
  static Nvml open(String library) throws NvmlException {
    SymbolLookup lookup;
    try {
      lookup = SymbolLookup.libraryLookup(library, Arena.global());
    } catch (IllegalArgumentException e) {
      throw new NvmlException(
          NvmlException.LIBRARY_NOT_LOADED, "cannot load it (" + e.getMessage() + ")");
    }
    NativeNvml nvml = new NativeNvml(lookup);
    nvml.invoke("nvmlInit_v2", FunctionDescriptor.of(JAVA_INT));
    return nvml;
  }

  @Override
  public String driverVersion() throws NvmlException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment buf = a.allocate(VERSION_SIZE);
      invoke(
          "nvmlSystemGetDriverVersion",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
          buf,
          VERSION_SIZE);
      return buf.getString(0);
    }
  }

  @Override
  public int deviceCount() throws NvmlException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment count = a.allocate(JAVA_INT);
      invoke("nvmlDeviceGetCount_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS), count);
      return count.get(JAVA_INT, 0);
    }
  }

  @Override
  public long handle(int index) throws NvmlException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment device = a.allocate(ADDRESS);
      invoke(
          "nvmlDeviceGetHandleByIndex_v2",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS),
          index,
          device);
      return device.get(ADDRESS, 0).address();
    }
  }

  @Override
  public String name(long device) throws NvmlException {
    return text("nvmlDeviceGetName", device, NAME_SIZE);
  }

  @Override
  public String uuid(long device) throws NvmlException {
    return text("nvmlDeviceGetUUID", device, UUID_SIZE);
  }

  @Override
  public String pciBusId(long device) throws NvmlException {
    return query(
        "nvmlDeviceGetPciInfo_v3",
        device,
        null,
        PCI_INFO,
        info -> info.getString(PCI_BUS_ID_OFFSET));
  }

  @Override
  public int minorNumber(long device) throws NvmlException {
    return (int) unsigned("nvmlDeviceGetMinorNumber", device);
  }

  @Override
  public int[] utilization(long device) throws NvmlException {
    return query(
        "nvmlDeviceGetUtilizationRates",
        device,
        null,
        MemoryLayout.sequenceLayout(2, JAVA_INT),
        u -> new int[] {u.get(JAVA_INT, 0), u.get(JAVA_INT, 4)});
  }

  @Override
  public long[] memory(long device) throws NvmlException {
    return query(
        "nvmlDeviceGetMemoryInfo",
        device,
        null,
        MemoryLayout.sequenceLayout(3, JAVA_LONG),
        m -> new long[] {m.get(JAVA_LONG, 0), m.get(JAVA_LONG, 8), m.get(JAVA_LONG, 16)});
  }

  @Override
  public int gpuTemperature(long device) throws NvmlException {
    return query(
        "nvmlDeviceGetTemperature",
        device,
        0,
        JAVA_INT,
        t -> t.get(JAVA_INT, 0)); // NVML_TEMPERATURE_GPU
  }

  @Override
  public long memoryTemperature(long device) throws NvmlException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(FIELD_VALUE_SIZE, 8);
      v.set(JAVA_INT, 0, FI_DEV_MEMORY_TEMP);
      invoke(
          "nvmlDeviceGetFieldValues",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS),
          MemorySegment.ofAddress(device),
          1,
          v);
      check("nvmlDeviceGetFieldValues(NVML_FI_DEV_MEMORY_TEMP)", v.get(JAVA_INT, 28));
      return switch (v.get(JAVA_INT, 24)) { // nvmlValueType_t
        case 0 -> Math.round(v.get(JAVA_DOUBLE, 32));
        case 1 -> Integer.toUnsignedLong(v.get(JAVA_INT, 32));
        case 5 -> v.get(JAVA_INT, 32);
        case 6 -> Short.toUnsignedInt(v.get(JAVA_SHORT, 32));
        default -> v.get(JAVA_LONG, 32);
      };
    }
  }

  @Override
  public int powerMilliwatts(long device) throws NvmlException {
    return (int) unsigned("nvmlDeviceGetPowerUsage", device);
  }

  @Override
  public int clockMhz(long device, int clock) throws NvmlException {
    return query("nvmlDeviceGetClockInfo", device, clock, JAVA_INT, mhz -> mhz.get(JAVA_INT, 0));
  }

  @Override
  public long totalEnergyMillijoules(long device) throws NvmlException {
    return query(
        "nvmlDeviceGetTotalEnergyConsumption", device, null, JAVA_LONG, mj -> mj.get(JAVA_LONG, 0));
  }

  @Override
  public long pcieReplays(long device) throws NvmlException {
    return unsigned("nvmlDeviceGetPcieReplayCounter", device);
  }

  @Override
  public void watchXids(List<Long> devices) throws NvmlException {
    MemorySegment set = Arena.global().allocate(ADDRESS);
    invoke("nvmlEventSetCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS), set);
    MemorySegment handle = set.get(ADDRESS, 0);
    for (long device : devices) {
      invoke(
          "nvmlDeviceRegisterEvents",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS),
          MemorySegment.ofAddress(device),
          EVENT_TYPE_XID_CRITICAL_ERROR,
          handle);
    }
    eventSet = handle;
  }

  @Override
  public List<Xid> pendingXids() throws NvmlException {
    MemorySegment set = eventSet;
    List<Xid> out = new ArrayList<>();
    if (set == null) {
      return out;
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment data = a.allocate(EVENT_DATA_SIZE, 8);
      for (int i = 0; i < 1000; i++) { // never spin: a storm is read over several polls
        int rc =
            call(
                "nvmlEventSetWait_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
                set,
                data,
                0);
        if (rc == NvmlException.TIMEOUT) {
          break;
        }
        check("nvmlEventSetWait_v2", rc);
        if ((data.get(JAVA_LONG, 8) & EVENT_TYPE_XID_CRITICAL_ERROR) != 0) {
          out.add(new Xid(data.get(ADDRESS, 0).address(), data.get(JAVA_LONG, 16)));
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    try {
      MemorySegment set = eventSet;
      if (set != null) {
        call("nvmlEventSetFree", FunctionDescriptor.of(JAVA_INT, ADDRESS), set);
      }
      call("nvmlShutdown", FunctionDescriptor.of(JAVA_INT));
    } catch (NvmlException ignored) {
      // an old driver without these calls: nothing to release
    }
  }

  private String text(String function, long device, int size) throws NvmlException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment buf = a.allocate(size);
      invoke(
          function,
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
          MemorySegment.ofAddress(device),
          buf,
          size);
      return buf.getString(0);
    }
  }

  /** A function of the form {@code nvmlReturn_t f(nvmlDevice_t, unsigned int *)}. */
  private long unsigned(String function, long device) throws NvmlException {
    return query(
        function, device, null, JAVA_INT, out -> Integer.toUnsignedLong(out.get(JAVA_INT, 0)));
  }

  /**
   * Calls {@code function(device, [selector,] out)}, where {@code out} points to memory laid out as
   * {@code result}, and reads the answer from it.
   */
  private <T> T query(
      String function,
      long device,
      Integer selector,
      MemoryLayout result,
      Function<MemorySegment, T> read)
      throws NvmlException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(result);
      MemorySegment handle = MemorySegment.ofAddress(device);
      if (selector == null) {
        invoke(function, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), handle, out);
      } else {
        invoke(
            function,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS),
            handle,
            selector,
            out);
      }
      return read.apply(out);
    }
  }

  private int call(String function, FunctionDescriptor descriptor, Object... args)
      throws NvmlException {
    MethodHandle h = functions.get(function);
    if (h == null) {
      MemorySegment symbol =
          library
              .find(function)
              .orElseThrow(
                  () ->
                      new NvmlException(
                          NvmlException.FUNCTION_NOT_FOUND,
                          function + " is not in this NVML (driver too old)"));
      h = linker.downcallHandle(symbol, descriptor);
      functions.put(function, h);
    }
    try {
      return (int) h.invokeWithArguments(args);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(function + " failed: " + t, t);
    }
  }

  /** {@link #call}, and an {@link NvmlException} for any answer but success. */
  private void invoke(String function, FunctionDescriptor descriptor, Object... args)
      throws NvmlException {
    check(function, call(function, descriptor, args));
  }

  private void check(String function, int rc) throws NvmlException {
    if (rc != 0) {
      throw new NvmlException(rc, function + ": " + errorString(rc) + " (NVML error " + rc + ")");
    }
  }

  private String errorString(int rc) {
    try {
      MethodHandle h = functions.get("nvmlErrorString");
      if (h == null) {
        MemorySegment symbol = library.find("nvmlErrorString").orElse(null);
        if (symbol == null) {
          return "NVML error";
        }
        h = linker.downcallHandle(symbol, FunctionDescriptor.of(ADDRESS, JAVA_INT));
        functions.put("nvmlErrorString", h);
      }
      MemorySegment s = (MemorySegment) h.invokeWithArguments(rc);
      return s.reinterpret(256).getString(0);
    } catch (Throwable t) {
      return "NVML error";
    }
  }
}
