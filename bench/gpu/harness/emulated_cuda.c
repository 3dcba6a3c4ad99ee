/*===- emulated_cuda.c - Host stand-in for the driver API (self-test) -----===//
 *
 * Part of the un-mlir project.
 *
 * The few CUDA driver calls the harnesses make, on host memory, for
 * `build.sh --emulate`: the harnesses then run the same compiled functions
 * lowered with un-gpu-emulation-pipeline (the GPU kernels run sequentially
 * on the host), which checks the harness, the data and the expected values
 * end to end on a machine without a GPU.
 *
 *===----------------------------------------------------------------------===*/

#include <cuda.h>
#include <stdlib.h>
#include <string.h>

CUresult cuMemAlloc(CUdeviceptr *ptr, size_t bytes) {
  void *p = aligned_alloc(256, (bytes + 255) / 256 * 256);
  *ptr = (CUdeviceptr)p;
  return p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}
CUresult cuMemFree(CUdeviceptr ptr) {
  free((void *)ptr);
  return CUDA_SUCCESS;
}
CUresult cuMemsetD8(CUdeviceptr ptr, unsigned char value, size_t n) {
  memset((void *)ptr, value, n);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t n) {
  memcpy((void *)dst, src, n);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t n) {
  memcpy(dst, (const void *)src, n);
  return CUDA_SUCCESS;
}
CUresult cuCtxSynchronize(void) { return CUDA_SUCCESS; }
CUresult cuGetErrorName(CUresult error, const char **name) {
  (void)error;
  *name = "emulated";
  return CUDA_SUCCESS;
}
CUcontext un_cuda_init(void) { return NULL; }
