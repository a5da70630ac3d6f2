package io.dynamometrics.gpu;

/** NVML refused a call: its return code and what it says the code means. */
public final class NvmlException extends Exception {
  public static final int NOT_SUPPORTED = 3;
  public static final int TIMEOUT = 10;
  public static final int FUNCTION_NOT_FOUND = 13;
  public static final int GPU_IS_LOST = 15;

  /** Not an NVML code: the library could not be loaded at all. */
  public static final int LIBRARY_NOT_LOADED = -1;

  private static final long serialVersionUID = 1L;

  private final int code;

  public NvmlException(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** Whether the call is one this GPU or driver does not offer (the series is then left out). */
  public boolean unsupported() {
    return code == NOT_SUPPORTED || code == FUNCTION_NOT_FOUND;
  }

  /**
   * A short label value for {@code reason}: {@code gpu_lost}, {@code not_supported}, {@code
   * nvml_N}.
   */
  public String reason() {
    return switch (code) {
      case GPU_IS_LOST -> "gpu_lost";
      case NOT_SUPPORTED, FUNCTION_NOT_FOUND -> "not_supported";
      default -> "nvml_" + code;
    };
  }
}
