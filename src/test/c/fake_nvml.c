/*
 * A fake libnvidia-ml.so for the tests of dynamo-metrics' NVML collector: the NVML functions the
 * collector calls, answering from a key=value file the test writes (FAKE_NVML_CONFIG), read anew
 * on every call so that a test can change values, make a call unsupported or lose a GPU while the
 * service runs. Keys: init (0, or an NVML error code), driver, count, and per GPU N: gpuN.name,
 * .uuid, .busid, .minor, .util, .memutil, .fb_total, .fb_used, .fb_free (bytes), .temp, .memtemp,
 * .power_mw, .sm_clock, .mem_clock, .energy_mj, .replay, .xid, .xid_serial, .lost. A value
 * "unsupported" makes that query answer NVML_ERROR_NOT_SUPPORTED; gpuN.lost=1 makes every query
 * of that GPU answer NVML_ERROR_GPU_IS_LOST. An XID event is delivered once each time
 * gpuN.xid_serial grows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct { int index; } *nvmlDevice_t;
typedef struct { int unused; } *nvmlEventSet_t;

#define OK 0
#define UNINITIALIZED 1
#define INVALID_ARGUMENT 2
#define NOT_SUPPORTED 3
#define INSUFFICIENT_SIZE 7
#define TIMEOUT 10
#define GPU_IS_LOST 15
#define MAX_GPUS 8

static struct { int index; } devices[MAX_GPUS];
static int initialized;
static long xid_seen[MAX_GPUS];
static struct { int unused; } event_set;

/* The value of key in the config file, or NULL. */
static const char *lookup(const char *key) {
  static char line[512], value[512];
  const char *path = getenv("FAKE_NVML_CONFIG");
  FILE *f = path ? fopen(path, "r") : NULL;
  if (!f) return NULL;
  size_t n = strlen(key);
  const char *found = NULL;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, n) == 0 && line[n] == '=') {
      strncpy(value, line + n + 1, sizeof value - 1);
      value[strcspn(value, "\r\n")] = 0;
      found = value;
    }
  }
  fclose(f);
  return found;
}

static const char *gpu_key(int i, const char *field) {
  static char key[64];
  snprintf(key, sizeof key, "gpu%d.%s", i, field);
  return lookup(key);
}

static int gpu_lost(int i) {
  const char *v = gpu_key(i, "lost");
  return v && strcmp(v, "1") == 0;
}

/* Reads gpuN.field as a number: OK, NOT_SUPPORTED, or GPU_IS_LOST. */
static nvmlReturn_t number(nvmlDevice_t d, const char *field, unsigned long long *out) {
  if (!initialized) return UNINITIALIZED;
  if (!d || !out) return INVALID_ARGUMENT;
  if (gpu_lost(d->index)) return GPU_IS_LOST;
  const char *v = gpu_key(d->index, field);
  if (!v || strcmp(v, "unsupported") == 0) return NOT_SUPPORTED;
  *out = strtoull(v, NULL, 10);
  return OK;
}

static nvmlReturn_t text(nvmlDevice_t d, const char *field, char *buf, unsigned int length) {
  if (!initialized) return UNINITIALIZED;
  if (!d || !buf) return INVALID_ARGUMENT;
  if (gpu_lost(d->index)) return GPU_IS_LOST;
  const char *v = gpu_key(d->index, field);
  if (!v) return NOT_SUPPORTED;
  if (strlen(v) + 1 > length) return INSUFFICIENT_SIZE;
  strcpy(buf, v);
  return OK;
}

nvmlReturn_t nvmlInit_v2(void) {
  const char *v = lookup("init");
  int code = v ? atoi(v) : 0;
  if (code != 0) return code;
  for (int i = 0; i < MAX_GPUS; i++) devices[i].index = i;
  initialized = 1;
  return OK;
}

nvmlReturn_t nvmlShutdown(void) {
  initialized = 0;
  return OK;
}

const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case OK: return "Success";
    case UNINITIALIZED: return "Uninitialized";
    case INVALID_ARGUMENT: return "Invalid Argument";
    case NOT_SUPPORTED: return "Not Supported";
    case 9: return "Driver Not Loaded";
    case TIMEOUT: return "Timeout";
    case GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
  if (!initialized) return UNINITIALIZED;
  const char *v = lookup("driver");
  if (!v) v = "0.0";
  if (strlen(v) + 1 > length) return INSUFFICIENT_SIZE;
  strcpy(version, v);
  return OK;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  if (!initialized) return UNINITIALIZED;
  const char *v = lookup("count");
  *count = v ? (unsigned) atoi(v) : 0;
  return OK;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  if (!initialized) return UNINITIALIZED;
  if (index >= MAX_GPUS) return INVALID_ARGUMENT;
  *device = (nvmlDevice_t) &devices[index];
  return OK;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) { return text(d, "name", name, length); }
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) { return text(d, "uuid", uuid, length); }

nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t d, unsigned int *minor) {
  unsigned long long v;
  nvmlReturn_t r = number(d, "minor", &v);
  if (r == OK) *minor = (unsigned) v;
  return r;
}

typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci) {
  memset(pci, 0, sizeof *pci);
  return text(d, "busid", pci->busId, sizeof pci->busId);
}

typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
  unsigned long long gpu, mem;
  nvmlReturn_t r = number(d, "util", &gpu);
  if (r == OK) r = number(d, "memutil", &mem);
  if (r == OK) { u->gpu = (unsigned) gpu; u->memory = (unsigned) mem; }
  return r;
}

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  nvmlReturn_t r = number(d, "fb_total", &m->total);
  if (r == OK) r = number(d, "fb_free", &m->free);
  if (r == OK) r = number(d, "fb_used", &m->used);
  return r;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *temp) {
  unsigned long long v;
  if (sensor != 0) return INVALID_ARGUMENT;
  nvmlReturn_t r = number(d, "temp", &v);
  if (r == OK) *temp = (unsigned) v;
  return r;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
  unsigned long long v;
  nvmlReturn_t r = number(d, "power_mw", &v);
  if (r == OK) *mw = (unsigned) v;
  return r;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz) {
  unsigned long long v;
  nvmlReturn_t r = type == 1 ? number(d, "sm_clock", &v) : type == 2 ? number(d, "mem_clock", &v) : INVALID_ARGUMENT;
  if (r == OK) *mhz = (unsigned) v;
  return r;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) { return number(d, "energy_mj", mj); }

nvmlReturn_t nvmlDeviceGetPcieReplayCounter(nvmlDevice_t d, unsigned int *count) {
  unsigned long long v;
  nvmlReturn_t r = number(d, "replay", &v);
  if (r == OK) *count = (unsigned) v;
  return r;
}

typedef struct {
  unsigned int fieldId, scopeId;
  long long timestamp, latencyUsec;
  int valueType;
  nvmlReturn_t nvmlReturn;
  union { double dVal; unsigned int uiVal; unsigned long long ullVal; } value;
} nvmlFieldValue_t;

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t d, int count, nvmlFieldValue_t *values) {
  if (!initialized) return UNINITIALIZED;
  if (gpu_lost(d->index)) return GPU_IS_LOST;
  for (int i = 0; i < count; i++) {
    unsigned long long v;
    if (values[i].fieldId == 82) { /* NVML_FI_DEV_MEMORY_TEMP */
      values[i].nvmlReturn = number(d, "memtemp", &v);
      values[i].valueType = 1; /* unsigned int */
      values[i].value.uiVal = (unsigned) v;
    } else {
      values[i].nvmlReturn = NOT_SUPPORTED;
    }
  }
  return OK;
}

typedef struct {
  nvmlDevice_t device;
  unsigned long long eventType, eventData;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlEventData_t;

nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
  if (!initialized) return UNINITIALIZED;
  *set = (nvmlEventSet_t) &event_set;
  return OK;
}

nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t d, unsigned long long types, nvmlEventSet_t set) {
  (void) types;
  (void) set;
  if (!initialized) return UNINITIALIZED;
  if (gpu_lost(d->index)) return GPU_IS_LOST;
  const char *serial = gpu_key(d->index, "xid_serial");
  xid_seen[d->index] = serial ? atol(serial) : 0;
  return OK;
}

nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms) {
  (void) set;
  (void) timeoutms; /* answers at once: the collector asks with a zero timeout */
  if (!initialized) return UNINITIALIZED;
  const char *c = lookup("count");
  int n = c ? atoi(c) : 0;
  for (int i = 0; i < n && i < MAX_GPUS; i++) {
    const char *serial = gpu_key(i, "xid_serial");
    long s = serial ? atol(serial) : 0;
    if (s > xid_seen[i]) {
      const char *xid = gpu_key(i, "xid");
      xid_seen[i] = s;
      memset(data, 0, sizeof *data);
      data->device = (nvmlDevice_t) &devices[i];
      data->eventType = 0x8; /* nvmlEventTypeXidCriticalError */
      data->eventData = xid ? strtoull(xid, NULL, 10) : 0;
      return OK;
    }
  }
  return TIMEOUT;
}

nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
  (void) set;
  return OK;
}
