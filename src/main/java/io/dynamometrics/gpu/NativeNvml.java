package io.dynamometrics.gpu;

/**
 * NVML through the Java FFM API, which Java 21 has only as a preview: on Java 22 and newer the jar
 * holds the real binding (META-INF/versions/22); this one only says what is needed.
 */
final class NativeNvml {
  private NativeNvml() {}

  @SuppressWarnings("DoNotCallSuggester") // the Java 22 version of this class does the real work
  static Nvml open(String library) throws NvmlException {
    throw new NvmlException(
        NvmlException.LIBRARY_NOT_LOADED,
        "this Java is "
            + Runtime.version().feature()
            + "; reading NVML through the FFM API needs Java 22 or newer");
  }
}
