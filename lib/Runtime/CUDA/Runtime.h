//===- Runtime.h - Internals shared by the CUDA runtime's files -*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The runtime's context and stream state and its loader of optional
// libraries (CudaRuntime.cpp), for its other entry points (Collectives.cpp,
// Matmul.cpp). Not exported from the library.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_RUNTIME_CUDA_RUNTIME_H
#define UN_LIB_RUNTIME_CUDA_RUNTIME_H

#include <cuda.h>

#define UN_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

namespace un_cuda {

/// Prints the failed driver call `what` with its error and aborts, unless
/// `result` is CUDA_SUCCESS.
void check(CUresult result, const char *what);

/// Initializes the driver and the primary context of the selected device
/// once, and makes the context current on the calling thread.
void ensureContext();

/// The stream a harness installed (un_cuda_set_stream), or null.
CUstream userStream();

/// False when a harness made the end-of-call waits no-ops.
bool synchronous();

/// A library the runtime uses only when a program needs it (NCCL,
/// cuBLASLt): dlopen of the path in `$envVar`, else of `defaultName`. If it
/// cannot be loaded, prints "<need>: could not load <path> (<error>);
/// install it (<where>) and put it on the loader's path or name it in
/// <envVar>" and aborts. Sets `*path` to the path tried.
void *loadOptionalLibrary(const char *envVar, const char *defaultName,
                          const char *need, const char *where,
                          const char **path);

/// `name` in `library` (loaded from `path`), or a message and abort.
void *requireSymbol(void *library, const char *path, const char *name);

} // namespace un_cuda

#define CHECK(call) un_cuda::check((call), #call)

#endif // UN_LIB_RUNTIME_CUDA_RUNTIME_H
