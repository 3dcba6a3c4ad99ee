/* A stand-in for libcublasLt.so.13 in tests without a GPU
 * (test_gpu_matmul_library.py): the entry points the CUDA runtime's
 * matmul (lib/Runtime/CUDA/Matmul.cpp) calls, computed on the host.
 *
 * cublasLtMatmul copies the operands to the host with the loaded CUDA
 * driver's cuMemcpyDtoH (the fake driver's device memory is not host
 * readable), computes D = alpha op(A) op(B) + beta C column-major with
 * double sums (no transposes; strided batches), and copies D back with
 * cuMemcpyHtoD. f32, bf16 and f16 matrices; the BIAS epilogue (a vector of
 * D's type added along D's rows, after beta C). With $FAKE_CUBLASLT_MAX_MACS,
 * a product of more multiply-adds is copied in and out but not computed
 * (D keeps C's values). Each call appends a line to
 * $FAKE_CUBLASLT_LOG: "matmul A RxC B RxC D RxC batch N types I O compute
 * K beta V[ bias]". */
#define _GNU_SOURCE
#include <cublasLt.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  cudaDataType type;
  uint64_t rows, cols;
  int64_t ld, stride;
  int32_t batch;
} Layout;
typedef struct {
  cublasComputeType_t compute;
  cublasLtEpilogue_t epilogue;
  const void *bias;
} Desc;
/* The minimum alignments of A, B, C, D (bytes) the algorithm may assume:
 * cuBLASLt's default is 256; a call with a less aligned pointer fails, as
 * it may with the real library. */
typedef struct {
  uint32_t align[4];
} Preference;

cublasStatus_t cublasLtCreate(cublasLtHandle_t *handle) {
  *handle = (cublasLtHandle_t)calloc(1, 16);
  return CUBLAS_STATUS_SUCCESS;
}
const char *cublasLtGetStatusString(cublasStatus_t status) {
  return status == CUBLAS_STATUS_SUCCESS ? "success" : "fake failure";
}
cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *desc,
                                        cublasComputeType_t compute,
                                        cudaDataType_t scale) {
  if (scale != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
  Desc *d = calloc(1, sizeof(Desc));
  d->compute = compute;
  d->epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  *desc = (cublasLtMatmulDesc_t)d;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) {
  free(desc);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc,
                                              cublasLtMatmulDescAttributes_t attr,
                                              const void *buf, size_t size) {
  Desc *d = (Desc *)desc;
  if (attr == CUBLASLT_MATMUL_DESC_EPILOGUE && size == 4)
    memcpy(&d->epilogue, buf, 4);
  else if (attr == CUBLASLT_MATMUL_DESC_BIAS_POINTER && size == 8)
    memcpy(&d->bias, buf, 8);
  else
    return CUBLAS_STATUS_INVALID_VALUE;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *layout,
                                          cudaDataType type, uint64_t rows,
                                          uint64_t cols, int64_t ld) {
  if (ld < (int64_t)rows) return CUBLAS_STATUS_INVALID_VALUE;
  Layout *l = calloc(1, sizeof(Layout));
  l->type = type;
  l->rows = rows;
  l->cols = cols;
  l->ld = ld;
  l->batch = 1;
  *layout = (cublasLtMatrixLayout_t)l;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t layout,
                                                cublasLtMatrixLayoutAttribute_t
                                                    attr,
                                                const void *buf, size_t size) {
  Layout *l = (Layout *)layout;
  if (attr == CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT && size == 4)
    memcpy(&l->batch, buf, 4);
  else if (attr == CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET && size == 8)
    memcpy(&l->stride, buf, 8);
  else
    return CUBLAS_STATUS_INVALID_VALUE;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) {
  free(layout);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p) {
  Preference *pref = calloc(1, sizeof(Preference));
  for (int i = 0; i < 4; ++i) pref->align[i] = 256;
  *p = (cublasLtMatmulPreference_t)pref;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(
    cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t attr,
    const void *buf, size_t size) {
  /* The sizes cublasLt.h gives each attribute. */
  if (attr == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES && size == 8)
    return CUBLAS_STATUS_SUCCESS;
  if (attr >= CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES &&
      attr <= CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES && size == 4) {
    uint32_t bytes;
    memcpy(&bytes, buf, 4);
    if (bytes < 1 || bytes > 256 || (bytes & (bytes - 1)) != 0)
      return CUBLAS_STATUS_INVALID_VALUE;
    ((Preference *)p)->align[attr - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES] =
        bytes;
    return CUBLAS_STATUS_SUCCESS;
  }
  return CUBLAS_STATUS_INVALID_VALUE;
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) {
  free(p);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(
    cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a,
    cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
    cublasLtMatmulPreference_t p, int requested,
    cublasLtMatmulHeuristicResult_t results[], int *found) {
  (void)handle, (void)desc, (void)c, (void)d;
  const Layout *la = (const Layout *)a, *lb = (const Layout *)b;
  if (requested < 1 || la->cols != lb->rows) {
    *found = 0;
    return CUBLAS_STATUS_SUCCESS;
  }
  memset(&results[0], 0, sizeof(results[0]));
  results[0].algo.data[0] = 42;
  for (int i = 0; i < 4; ++i)
    results[0].algo.data[1 + i] = ((const Preference *)p)->align[i];
  *found = 1;
  return CUBLAS_STATUS_SUCCESS;
}

static size_t bytes(cudaDataType type) { return type == CUDA_R_32F ? 4 : 2; }

static double load(const Layout *l, const unsigned char *base, int64_t i) {
  if (l->type == CUDA_R_32F) return ((const float *)base)[i];
  uint16_t h = ((const uint16_t *)base)[i];
  if (l->type == CUDA_R_16BF) {
    uint32_t w = (uint32_t)h << 16;
    float f;
    memcpy(&f, &w, 4);
    return f;
  }
  _Float16 f;
  memcpy(&f, &h, 2);
  return (double)f;
}

static void store(const Layout *l, unsigned char *base, int64_t i, double v) {
  float f = (float)v;
  if (l->type == CUDA_R_32F) {
    ((float *)base)[i] = f;
  } else if (l->type == CUDA_R_16BF) {
    uint32_t w;
    memcpy(&w, &f, 4);
    w += 0x7fff + ((w >> 16) & 1); /* round to nearest even */
    ((uint16_t *)base)[i] = (uint16_t)(w >> 16);
  } else {
    _Float16 h = (_Float16)f;
    memcpy((uint16_t *)base + i, &h, 2);
  }
}

/* A batch of `l` as host memory: the bytes from the first element to the
 * last of the last matrix. */
static size_t extent(const Layout *l) {
  int64_t last = (int64_t)(l->batch - 1) * l->stride +
                 (int64_t)(l->cols - 1) * l->ld + (int64_t)l->rows;
  return (size_t)last * bytes(l->type);
}

typedef int (*ToHost)(void *, uint64_t, size_t);
typedef int (*ToDevice)(uint64_t, const void *, size_t);

static unsigned char *fetch(const Layout *l, const void *device) {
  ToHost copy = (ToHost)dlsym(RTLD_DEFAULT, "cuMemcpyDtoH_v2");
  unsigned char *host = malloc(extent(l));
  if (!copy || copy(host, (uint64_t)(uintptr_t)device, extent(l)) != 0) {
    fprintf(stderr, "fake cublasLt: cuMemcpyDtoH failed\n");
    abort();
  }
  return host;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                              const void *alpha, const void *a,
                              cublasLtMatrixLayout_t adesc, const void *b,
                              cublasLtMatrixLayout_t bdesc, const void *beta,
                              const void *c, cublasLtMatrixLayout_t cdesc,
                              void *d, cublasLtMatrixLayout_t ddesc,
                              const cublasLtMatmulAlgo_t *algo, void *workspace,
                              size_t workspaceSize, cudaStream_t stream) {
  (void)handle, (void)workspace, (void)workspaceSize, (void)stream;
  const Layout *la = (const Layout *)adesc, *lb = (const Layout *)bdesc;
  const Layout *lc = (const Layout *)cdesc, *ld = (const Layout *)ddesc;
  if (!algo || algo->data[0] != 42 || la->cols != lb->rows ||
      lc->rows != la->rows || lc->cols != lb->cols || la->batch != lb->batch ||
      la->batch != lc->batch || ld != lc || la->type != lb->type)
    return CUBLAS_STATUS_INVALID_VALUE;
  const void *pointers[4] = {a, b, c, d};
  for (int i = 0; i < 4; ++i)
    if ((uintptr_t)pointers[i] % algo->data[1 + i] != 0) return CUBLAS_STATUS_NOT_SUPPORTED;
  float al = *(const float *)alpha, be = *(const float *)beta;
  unsigned char *ha = fetch(la, a), *hb = fetch(lb, b);
  unsigned char *hc = be != 0.0f ? fetch(lc, c) : calloc(1, extent(lc));
  const Desc *op = (const Desc *)desc;
  unsigned char *hbias = NULL;
  Layout biasLayout = {lc->type, lc->rows, 1, (int64_t)lc->rows, 0, 1};
  if (op->epilogue == CUBLASLT_EPILOGUE_BIAS) {
    if (!op->bias || la->batch != 1) return CUBLAS_STATUS_INVALID_VALUE;
    hbias = fetch(&biasLayout, op->bias);
  } else if (op->epilogue != CUBLASLT_EPILOGUE_DEFAULT) {
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  const char *limit = getenv("FAKE_CUBLASLT_MAX_MACS");
  double macs = (double)la->batch * lc->rows * lc->cols * la->cols;
  int32_t batches = limit && macs > atof(limit) ? 0 : la->batch;
  for (int32_t n = 0; n < batches; ++n)
    for (uint64_t j = 0; j < lc->cols; ++j)
      for (uint64_t i = 0; i < lc->rows; ++i) {
        double sum = 0;
        for (uint64_t k = 0; k < la->cols; ++k)
          sum += load(la, ha, n * la->stride + (int64_t)(i + k * la->ld)) *
                 load(lb, hb, n * lb->stride + (int64_t)(k + j * lb->ld));
        int64_t at = n * lc->stride + (int64_t)(i + j * lc->ld);
        double old = be != 0.0f ? load(lc, hc, at) : 0.0;
        double bias = hbias ? load(&biasLayout, hbias, (int64_t)i) : 0.0;
        store(lc, hc, at, al * sum + be * old + bias);
      }
  ToDevice copy = (ToDevice)dlsym(RTLD_DEFAULT, "cuMemcpyHtoD_v2");
  if (!copy || copy((uint64_t)(uintptr_t)d, hc, extent(lc)) != 0) {
    fprintf(stderr, "fake cublasLt: cuMemcpyHtoD failed\n");
    abort();
  }
  free(ha), free(hb), free(hc), free(hbias);
  const char *log = getenv("FAKE_CUBLASLT_LOG");
  FILE *f = log ? fopen(log, "a") : NULL;
  if (f) {
    fprintf(f, "matmul A %llux%llu B %llux%llu D %llux%llu batch %d types %d %d "
               "compute %d beta %g%s\n",
            (unsigned long long)la->rows, (unsigned long long)la->cols,
            (unsigned long long)lb->rows, (unsigned long long)lb->cols,
            (unsigned long long)lc->rows, (unsigned long long)lc->cols,
            la->batch, (int)la->type, (int)lc->type,
            (int)op->compute, be, hbias ? " bias" : "");
    fclose(f);
  }
  return CUBLAS_STATUS_SUCCESS;
}
