//===- CudaRuntime.cpp - Host runtime for un-cuda-pipeline output -*- C++ -*-//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The entry points that MLIR's gpu-to-LLVM lowering calls (mgpu*), on the
// CUDA driver API, plus a few un_cuda_* controls for harnesses:
//
// - one primary context per process, made current on every call;
// - device allocations are stream ordered (cuMemAllocAsync/cuMemFreeAsync
//   from the device's default pool, which keeps freed memory cached), so
//   the small per-step temporaries of a training step cost no cudaMalloc;
//   `host_shared` allocations are managed memory;
// - by default each compiled call creates its own stream and waits for it
//   at the end (MLIR's synchronous semantics). A harness may install its
//   own stream (un_cuda_set_stream) and make the end-of-call waits no-ops
//   (un_cuda_set_synchronous(0)): calls then only enqueue work, and the
//   harness synchronizes, e.g. to time back-to-back steps with events;
// - every driver error is fatal: it is printed with the call that failed
//   and the process aborts (a silent error would leave wrong numbers).
//
// `mlir-runner --shared-libs=libun_cuda_runtime.so` runs the pipeline's
// output; standalone executables link it (bench/gpu). It travels to GPU
// machines, so it needs no more than glibc 2.34: plain C and pthreads, no
// part of libstdc++ that would pull in newer glibc symbols.
//
//===----------------------------------------------------------------------===//

#include "Runtime.h"

#include <dlfcn.h>

#include <pthread.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace un_cuda {

void check(CUresult result, const char *what) {
  if (result == CUDA_SUCCESS)
    return;
  const char *name = "?";
  const char *text = "?";
  cuGetErrorName(result, &name);
  cuGetErrorString(result, &text);
  fprintf(stderr, "un_cuda_runtime: %s failed: %s (%s)\n", what, name, text);
  abort();
}

} // namespace un_cuda

using un_cuda::check;

namespace {

/// The pointers of the managed (host-shared) allocations: few, so a list.
struct PointerSet {
  void **items = nullptr;
  size_t size = 0, capacity = 0;

  void insert(void *ptr) {
    if (size == capacity) {
      capacity = capacity ? 2 * capacity : 16;
      items = static_cast<void **>(realloc(items, capacity * sizeof(void *)));
      if (!items) {
        fprintf(stderr, "un_cuda_runtime: out of host memory\n");
        abort();
      }
    }
    items[size++] = ptr;
  }

  /// Removes `ptr`; whether it was there.
  bool erase(void *ptr) {
    for (size_t i = 0; i < size; ++i)
      if (items[i] == ptr) {
        items[i] = items[--size];
        return true;
      }
    return false;
  }
};

struct Runtime {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  int device = 0;
  bool initialized = false;
  CUdevice cuDevice = 0;
  CUcontext context = nullptr;
  bool pools = false;
  CUstream userStream = nullptr;
  bool synchronous = true;
  PointerSet managed;
};

/// Holds the runtime's mutex for its lifetime.
class Lock {
public:
  explicit Lock(pthread_mutex_t &mutex) : mutex(mutex) {
    pthread_mutex_lock(&mutex);
  }
  ~Lock() { pthread_mutex_unlock(&mutex); }
  Lock(const Lock &) = delete;
  Lock &operator=(const Lock &) = delete;

private:
  pthread_mutex_t &mutex;
};

Runtime theRuntime; // constant-initialized: no guard, no destructor order

Runtime &runtime() { return theRuntime; }

} // namespace

namespace un_cuda {

void ensureContext() {
  Runtime &rt = runtime();
  {
    Lock lock(rt.mutex);
    if (!rt.initialized) {
      CHECK(cuInit(0));
      if (const char *env = getenv("UN_CUDA_DEVICE"))
        rt.device = atoi(env);
      CHECK(cuDeviceGet(&rt.cuDevice, rt.device));
      CHECK(cuDevicePrimaryCtxRetain(&rt.context, rt.cuDevice));
      int pools = 0;
      CHECK(cuDeviceGetAttribute(
          &pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, rt.cuDevice));
      rt.pools = pools != 0;
      if (rt.pools) {
        // Keep freed memory in the pool instead of returning it at every
        // synchronization.
        CUmemoryPool pool;
        CHECK(cuDeviceGetDefaultMemPool(&pool, rt.cuDevice));
        uint64_t threshold = UINT64_MAX;
        CHECK(cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                                    &threshold));
      }
      rt.initialized = true;
    }
  }
  CHECK(cuCtxSetCurrent(rt.context));
}

CUstream userStream() { return runtime().userStream; }

bool synchronous() { return runtime().synchronous; }

} // namespace un_cuda

using un_cuda::ensureContext;

//===----------------------------------------------------------------------===//
// Modules and launches
//===----------------------------------------------------------------------===//

UN_CUDA_EXPORT CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  ensureContext();
  CUmodule module = nullptr;
  CHECK(cuModuleLoadData(&module, data));
  return module;
}

UN_CUDA_EXPORT CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  ensureContext();
  CUmodule module = nullptr;
  char log[8192] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log)),
                    reinterpret_cast<void *>(static_cast<intptr_t>(optLevel))};
  CUresult result = cuModuleLoadDataEx(&module, data, 3, options, values);
  if (result != CUDA_SUCCESS)
    fprintf(stderr, "un_cuda_runtime: PTX JIT log:\n%s\n", log);
  check(result, "cuModuleLoadDataEx (PTX JIT)");
  return module;
}

UN_CUDA_EXPORT void mgpuModuleUnload(CUmodule module) {
  ensureContext();
  CHECK(cuModuleUnload(module));
}

UN_CUDA_EXPORT CUfunction mgpuModuleGetFunction(CUmodule module,
                                                const char *name) {
  ensureContext();
  CUfunction function = nullptr;
  CHECK(cuModuleGetFunction(&function, module, name));
  return function;
}

UN_CUDA_EXPORT void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                                     intptr_t gridY, intptr_t gridZ,
                                     intptr_t blockX, intptr_t blockY,
                                     intptr_t blockZ, int32_t smem,
                                     CUstream stream, void **params,
                                     void **extra, size_t /*paramsCount*/) {
  ensureContext();
  if (smem > 48 * 1024)
    CHECK(cuFuncSetAttribute(
        function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem));
  CHECK(cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                       smem, stream, params, extra));
}

//===----------------------------------------------------------------------===//
// Streams and events
//===----------------------------------------------------------------------===//

UN_CUDA_EXPORT CUstream mgpuStreamCreate() {
  ensureContext();
  Runtime &rt = runtime();
  if (rt.userStream)
    return rt.userStream;
  CUstream stream = nullptr;
  CHECK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  return stream;
}

UN_CUDA_EXPORT void mgpuStreamDestroy(CUstream stream) {
  ensureContext();
  if (stream == runtime().userStream)
    return;
  CHECK(cuStreamDestroy(stream));
}

UN_CUDA_EXPORT void mgpuStreamSynchronize(CUstream stream) {
  ensureContext();
  Runtime &rt = runtime();
  if (stream == rt.userStream && rt.userStream && !rt.synchronous)
    return;
  CHECK(cuStreamSynchronize(stream));
}

UN_CUDA_EXPORT void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  ensureContext();
  CHECK(cuStreamWaitEvent(stream, event, /*flags=*/0));
}

UN_CUDA_EXPORT CUevent mgpuEventCreate() {
  ensureContext();
  CUevent event = nullptr;
  CHECK(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING));
  return event;
}

UN_CUDA_EXPORT void mgpuEventDestroy(CUevent event) {
  ensureContext();
  CHECK(cuEventDestroy(event));
}

UN_CUDA_EXPORT void mgpuEventSynchronize(CUevent event) {
  ensureContext();
  CHECK(cuEventSynchronize(event));
}

UN_CUDA_EXPORT void mgpuEventRecord(CUevent event, CUstream stream) {
  ensureContext();
  CHECK(cuEventRecord(event, stream));
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

UN_CUDA_EXPORT void *mgpuMemAlloc(uint64_t sizeBytes, CUstream stream,
                                  bool isHostShared) {
  ensureContext();
  if (sizeBytes == 0)
    return nullptr;
  Runtime &rt = runtime();
  CUdeviceptr ptr = 0;
  if (isHostShared) {
    CHECK(cuMemAllocManaged(&ptr, sizeBytes, CU_MEM_ATTACH_GLOBAL));
    Lock lock(rt.mutex);
    rt.managed.insert(reinterpret_cast<void *>(ptr));
  } else if (rt.pools) {
    CHECK(cuMemAllocAsync(&ptr, sizeBytes, stream));
  } else {
    CHECK(cuMemAlloc(&ptr, sizeBytes));
  }
  return reinterpret_cast<void *>(ptr);
}

UN_CUDA_EXPORT void mgpuMemFree(void *ptr, CUstream stream) {
  if (!ptr)
    return;
  ensureContext();
  Runtime &rt = runtime();
  bool wasManaged;
  {
    Lock lock(rt.mutex);
    wasManaged = rt.managed.erase(ptr) != 0;
  }
  CUdeviceptr devicePtr = reinterpret_cast<CUdeviceptr>(ptr);
  if (!wasManaged && rt.pools)
    CHECK(cuMemFreeAsync(devicePtr, stream));
  else
    CHECK(cuMemFree(devicePtr));
}

UN_CUDA_EXPORT void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                               CUstream stream) {
  ensureContext();
  if (sizeBytes == 0)
    return;
  CHECK(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                      reinterpret_cast<CUdeviceptr>(src), sizeBytes, stream));
}

UN_CUDA_EXPORT void mgpuMemset32(void *dst, unsigned int value, size_t count,
                                 CUstream stream) {
  ensureContext();
  CHECK(cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                         stream));
}

UN_CUDA_EXPORT void mgpuMemset16(void *dst, unsigned short value, size_t count,
                                 CUstream stream) {
  ensureContext();
  CHECK(cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                         stream));
}

UN_CUDA_EXPORT void mgpuMemHostRegister(void *ptr, uint64_t sizeBytes) {
  ensureContext();
  CHECK(cuMemHostRegister(ptr, sizeBytes,
                          CU_MEMHOSTREGISTER_PORTABLE |
                              CU_MEMHOSTREGISTER_DEVICEMAP));
}

UN_CUDA_EXPORT void mgpuMemHostUnregister(void *ptr) {
  ensureContext();
  CHECK(cuMemHostUnregister(ptr));
}

namespace {
/// The leading fields of a ranked memref descriptor; sizes[rank] and
/// strides[rank] follow.
struct MemRefHeader {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[1];
};

/// The bytes spanned by a (contiguous) memref and their start.
void memrefSpan(int64_t rank, void *descriptor, int64_t elementSizeBytes,
                char **start, uint64_t *bytes) {
  auto *header = static_cast<MemRefHeader *>(descriptor);
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i)
    count *= header->sizesAndStrides[i];
  *start = header->aligned + header->offset * elementSizeBytes;
  *bytes = static_cast<uint64_t>(count * elementSizeBytes);
}
} // namespace

UN_CUDA_EXPORT void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                                              int64_t elementSizeBytes) {
  char *start;
  uint64_t bytes;
  memrefSpan(rank, descriptor, elementSizeBytes, &start, &bytes);
  if (bytes)
    mgpuMemHostRegister(start, bytes);
}

UN_CUDA_EXPORT void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                                int64_t elementSizeBytes) {
  char *start;
  uint64_t bytes;
  memrefSpan(rank, descriptor, elementSizeBytes, &start, &bytes);
  if (bytes)
    mgpuMemHostUnregister(start);
}

UN_CUDA_EXPORT void mgpuSetDefaultDevice(int32_t device) {
  Runtime &rt = runtime();
  Lock lock(rt.mutex);
  if (rt.initialized && device != rt.device) {
    fprintf(stderr,
            "un_cuda_runtime: mgpuSetDefaultDevice(%d) after the "
            "context of device %d was created\n",
            device, rt.device);
    abort();
  }
  rt.device = device;
}

//===----------------------------------------------------------------------===//
// Controls for harnesses (bench/gpu)
//===----------------------------------------------------------------------===//

/// Initializes the runtime and returns its context (the device's primary
/// context), current on the calling thread.
UN_CUDA_EXPORT CUcontext un_cuda_init() {
  ensureContext();
  return runtime().context;
}

/// Routes every compiled call onto `stream` (null: a stream per call).
UN_CUDA_EXPORT void un_cuda_set_stream(CUstream stream) {
  runtime().userStream = stream;
}

/// With 0, the waits at the end of compiled calls on the installed stream
/// are skipped: calls only enqueue work (the caller synchronizes).
UN_CUDA_EXPORT void un_cuda_set_synchronous(int synchronous) {
  runtime().synchronous = synchronous != 0;
}

void *un_cuda::loadOptionalLibrary(const char *envVar, const char *defaultName,
                                   const char *need, const char *where,
                                   const char **path) {
  *path = getenv(envVar);
  if (!*path || !**path)
    *path = defaultName;
  void *library = dlopen(*path, RTLD_NOW | RTLD_GLOBAL);
  if (!library) {
    fprintf(stderr,
            "un_cuda_runtime: %s: could not load %s (%s); install it (%s) "
            "and put it on the loader's path or name it in %s\n",
            need, *path, dlerror(), where, envVar);
    abort();
  }
  return library;
}

void *un_cuda::requireSymbol(void *library, const char *path,
                             const char *name) {
  void *found = dlsym(library, name);
  if (!found) {
    fprintf(stderr, "un_cuda_runtime: %s has no %s\n", path, name);
    abort();
  }
  return found;
}
