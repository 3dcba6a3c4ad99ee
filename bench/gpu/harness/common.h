/*===- common.h - Shared code of the GPU harnesses ------------------------===//
 *
 * Part of the un-mlir project.
 *
 * Memref descriptors for the C interface of compiled functions
 * (`_mlir_ciface_<name>` takes a pointer to {allocated, aligned, offset,
 * sizes[rank], strides[rank]} per memref argument), device buffers, and
 * lookup of compiled functions by name (the executables are linked with
 * -rdynamic).
 *
 *===----------------------------------------------------------------------===*/

#ifndef UN_BENCH_GPU_COMMON_H
#define UN_BENCH_GPU_COMMON_H

#include <cuda.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From libun_cuda_runtime.so. */
CUcontext un_cuda_init(void);
void un_cuda_set_stream(CUstream stream);
void un_cuda_set_synchronous(int synchronous);

#define MAX_RANK 4

static void check_cu(CUresult result, const char *what, int line) {
  if (result == CUDA_SUCCESS)
    return;
  const char *name = "?";
  cuGetErrorName(result, &name);
  fprintf(stderr, "line %d: %s failed: %s\n", line, what, name);
  exit(2);
}
#define CU(call) check_cu((call), #call, __LINE__)

/* A device buffer viewed as a memref of `rank` dims. */
typedef struct {
  CUdeviceptr ptr;
  size_t capacity; /* bytes allocated */
  int64_t elem;    /* bytes per element */
  int rank;
  int64_t dims[MAX_RANK];
  int64_t desc[3 + 2 * MAX_RANK];
} Buffer;

static int64_t numel(const Buffer *b) {
  int64_t n = 1;
  for (int i = 0; i < b->rank; ++i)
    n *= b->dims[i];
  return n;
}

/* Sets the shape (row-major strides) of `b`; the data must fit. */
static void shape(Buffer *b, int rank, const int64_t *dims) {
  b->rank = rank;
  for (int i = 0; i < rank; ++i)
    b->dims[i] = dims[i];
  if ((size_t)(numel(b) * b->elem) > b->capacity) {
    fprintf(stderr, "buffer too small\n");
    exit(2);
  }
  b->desc[0] = b->desc[1] = (int64_t)b->ptr;
  b->desc[2] = 0;
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    b->desc[3 + i] = dims[i];
    b->desc[3 + rank + i] = stride;
    stride *= dims[i];
  }
}

static Buffer buffer(size_t capacityElems, int64_t elem, int rank,
                     const int64_t *dims) {
  Buffer b;
  memset(&b, 0, sizeof(b));
  b.elem = elem;
  b.capacity = capacityElems * elem;
  CU(cuMemAlloc(&b.ptr, b.capacity ? b.capacity : 16));
  CU(cuMemsetD8(b.ptr, 0, b.capacity ? b.capacity : 16));
  /* The compiled functions run on non-blocking streams, which do not wait
   * for work on the legacy default stream. */
  CU(cuCtxSynchronize());
  shape(&b, rank, dims);
  return b;
}

static Buffer buffer1(int64_t n, int64_t elem) {
  return buffer(n, elem, 1, &n);
}

static Buffer buffer2(int64_t m, int64_t n, int64_t elem) {
  int64_t dims[2] = {m, n};
  return buffer(m * n, elem, 2, dims);
}

static void upload(Buffer *b, const void *host, size_t bytes) {
  CU(cuMemcpyHtoD(b->ptr, host, bytes));
  /* A copy from pageable memory may still be in flight when it returns, and
   * the compiled functions' non-blocking streams would not wait for it. */
  CU(cuCtxSynchronize());
}

static void download(void *host, const Buffer *b, size_t bytes) {
  CU(cuMemcpyDtoH(host, b->ptr, bytes));
}

static void swap(Buffer *a, Buffer *b) {
  Buffer t = *a;
  *a = *b;
  *b = t;
}

/* The C interface of a compiled function. */
static void *lookup(const char *name, const char *suffix) {
  char symbol[256];
  snprintf(symbol, sizeof(symbol), "_mlir_ciface_%s%s", name, suffix);
  void *fn = dlsym(RTLD_DEFAULT, symbol);
  if (!fn) {
    fprintf(stderr, "no compiled function %s\n", symbol);
    exit(2);
  }
  return fn;
}

typedef void (*Fn5)(void *, void *, void *, void *, void *);
typedef void (*Fn13)(void *, void *, void *, void *, void *, void *, void *,
                     void *, void *, void *, void *, void *, void *);
typedef void (*Fn14)(void *, void *, void *, void *, void *, void *, void *,
                     void *, void *, void *, void *, void *, void *, void *);

static int elem_bytes(const char *dtype) {
  return strcmp(dtype, "f32") == 0 ? 4 : 2;
}

/* Reads `rank` (at most MAX_RANK) dims, non-negative integers, from `f` into
 * `dims` and returns their product; a malformed list ends the process,
 * naming `what`. */
static int64_t read_dims(FILE *f, int rank, int64_t *dims, const char *what) {
  if (rank < 0 || rank > MAX_RANK) {
    fprintf(stderr, "%s: rank %d is not in [0, %d]\n", what, rank, MAX_RANK);
    exit(2);
  }
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    long long d;
    if (fscanf(f, "%lld", &d) != 1 || d < 0) {
      fprintf(stderr, "%s: dim %d of %d missing or negative\n", what, i, rank);
      exit(2);
    }
    dims[i] = d;
    n *= d;
  }
  return n;
}

#endif /* UN_BENCH_GPU_COMMON_H */
