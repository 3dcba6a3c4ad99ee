//===- Matmul.cpp - Matmuls on tensor cores through cuBLASLt ----*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The entry points that un-gpu-matmul{library=cublaslt} calls:
//
//   un_cuda_matmul_<in>[_<out>][_tf32](a, b, c, d, bias, batch, m, n, k)
//
// D[batch][m][n] = A[batch][m][k] B[batch][k][n] (+ C[batch][m][n] when c
// is not 0; c may be d) (+ bias[n] when bias is not 0: cuBLASLt's BIAS
// epilogue, one batch only), every matrix row-major and contiguous on the
// device; inputs f32, bf16 or f16, the result (and C, bias) f32 or the
// inputs' type; f32 accumulation (the compute type CUBLAS_COMPUTE_32F, or
// 32F_FAST_TF32 for _tf32).
//
// - cuBLASLt is loaded with dlopen on the first call (UN_CUBLASLT_LIBRARY,
//   else libcublasLt.so.13: the library PyTorch's CUDA 13 wheels carry in
//   nvidia/cu13/lib, or the toolkit's), so the runtime builds and runs
//   programs without matmul calls without it.
// - cuBLASLt is column-major: a row-major C = A B is the column-major
//   C^T = B^T A^T, so B is passed as its first operand and A as its second,
//   neither transposed.
// - A plan (descriptors and the heuristic's algorithm) is made once per
//   shape, types, epilogue and pointer alignments and kept (up to
//   kMaxPlans; beyond that, made per call).
//   One 32 MiB device workspace, as cuBLAS recommends for Hopper.
// - The call is enqueued on the harness' stream when one is installed,
//   else on a stream of its own after the kernels before it finished
//   (gpu-async-region waits before the call), and waited for.
// Every failure is fatal, with a message that names the call.
//
//===----------------------------------------------------------------------===//

#include "Runtime.h"

#include <cublasLt.h>
#include <pthread.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

struct CublasLt {
  decltype(&cublasLtCreate) create;
  decltype(&cublasLtGetStatusString) statusString;
  decltype(&cublasLtMatmulDescCreate) descCreate;
  decltype(&cublasLtMatmulDescDestroy) descDestroy;
  decltype(&cublasLtMatmulDescSetAttribute) descSetAttribute;
  decltype(&cublasLtMatrixLayoutCreate) layoutCreate;
  decltype(&cublasLtMatrixLayoutSetAttribute) layoutSetAttribute;
  decltype(&cublasLtMatrixLayoutDestroy) layoutDestroy;
  decltype(&cublasLtMatmulPreferenceCreate) preferenceCreate;
  decltype(&cublasLtMatmulPreferenceSetAttribute) preferenceSetAttribute;
  decltype(&cublasLtMatmulPreferenceDestroy) preferenceDestroy;
  decltype(&cublasLtMatmulAlgoGetHeuristic) heuristic;
  decltype(&cublasLtMatmul) matmul;
};

/// What a plan is for. The alignments (bytes, at most 256) of the
/// pointers rule out the algorithms that need more.
struct PlanKey {
  cudaDataType_t in, out;
  cublasComputeType_t compute;
  int64_t batch, m, n, k;
  bool bias;
  uint32_t alignA, alignB, alignC, alignD, alignBias;

  bool operator==(const PlanKey &o) const {
    return in == o.in && out == o.out && compute == o.compute &&
           batch == o.batch && m == o.m && n == o.n && k == o.k &&
           bias == o.bias && alignA == o.alignA && alignB == o.alignB &&
           alignC == o.alignC && alignD == o.alignD && alignBias == o.alignBias;
  }
};

/// The largest power of two up to 256 that divides `pointer`.
uint32_t alignment(intptr_t pointer) {
  uint32_t align = 256;
  while (align > 1 && pointer % align)
    align /= 2;
  return align;
}

struct Plan {
  PlanKey key = {};
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t first = nullptr, second = nullptr, result = nullptr;
  cublasLtMatmulAlgo_t algo = {};
};

constexpr int kMaxPlans = 128;
constexpr size_t kWorkspaceBytes = size_t(32) << 20;

struct MatmulState {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  bool initialized = false;
  CublasLt lt = {};
  cublasLtHandle_t handle = nullptr;
  CUdeviceptr workspace = 0;
  CUstream stream = nullptr;
  Plan plans[kMaxPlans];
  int planCount = 0;
};

MatmulState theMatmulState; // constant-initialized

CublasLt loadCublasLt() {
  const char *path;
  void *library = un_cuda::loadOptionalLibrary(
      "UN_CUBLASLT_LIBRARY", "libcublasLt.so.13",
      "matmuls compiled with matmul-library=cublaslt need cuBLASLt",
      "PyPI: nvidia-cublas, or PyTorch's CUDA wheels", &path);
  CublasLt lt;
#define UN_LOAD(field, name)                                                   \
  lt.field = reinterpret_cast<decltype(lt.field)>(                             \
      un_cuda::requireSymbol(library, path, name))
  UN_LOAD(create, "cublasLtCreate");
  UN_LOAD(statusString, "cublasLtGetStatusString");
  UN_LOAD(descCreate, "cublasLtMatmulDescCreate");
  UN_LOAD(descDestroy, "cublasLtMatmulDescDestroy");
  UN_LOAD(descSetAttribute, "cublasLtMatmulDescSetAttribute");
  UN_LOAD(layoutCreate, "cublasLtMatrixLayoutCreate");
  UN_LOAD(layoutSetAttribute, "cublasLtMatrixLayoutSetAttribute");
  UN_LOAD(layoutDestroy, "cublasLtMatrixLayoutDestroy");
  UN_LOAD(preferenceCreate, "cublasLtMatmulPreferenceCreate");
  UN_LOAD(preferenceSetAttribute, "cublasLtMatmulPreferenceSetAttribute");
  UN_LOAD(preferenceDestroy, "cublasLtMatmulPreferenceDestroy");
  UN_LOAD(heuristic, "cublasLtMatmulAlgoGetHeuristic");
  UN_LOAD(matmul, "cublasLtMatmul");
#undef UN_LOAD
  return lt;
}

void checkLt(const CublasLt &lt, cublasStatus_t status, const char *what,
             const PlanKey &key) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return;
  fprintf(stderr,
          "un_cuda_runtime: %s failed for the matmul batch %lld, M %lld, "
          "N %lld, K %lld (cudaDataType %d -> %d, compute %d): %s\n",
          what, static_cast<long long>(key.batch),
          static_cast<long long>(key.m), static_cast<long long>(key.n),
          static_cast<long long>(key.k), static_cast<int>(key.in),
          static_cast<int>(key.out), static_cast<int>(key.compute),
          lt.statusString ? lt.statusString(status) : "?");
  abort();
}

/// A column-major rows x cols layout with leading dimension `rows`,
/// `batch` of them `rows * cols` elements apart.
cublasLtMatrixLayout_t layout(const CublasLt &lt, const PlanKey &key,
                              cudaDataType_t type, int64_t rows, int64_t cols) {
  cublasLtMatrixLayout_t l = nullptr;
  checkLt(lt, lt.layoutCreate(&l, type, rows, cols, rows),
          "cublasLtMatrixLayoutCreate", key);
  int32_t count = static_cast<int32_t>(key.batch);
  int64_t stride = rows * cols;
  checkLt(lt,
          lt.layoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                sizeof(count)),
          "cublasLtMatrixLayoutSetAttribute", key);
  checkLt(lt,
          lt.layoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                &stride, sizeof(stride)),
          "cublasLtMatrixLayoutSetAttribute", key);
  return l;
}

/// Points the plan's bias epilogue at `bias` (the heuristic reads its
/// alignment from it).
void setBias(const CublasLt &lt, Plan &plan, intptr_t bias) {
  const void *pointer = reinterpret_cast<const void *>(bias);
  checkLt(lt,
          lt.descSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                              &pointer, sizeof(pointer)),
          "cublasLtMatmulDescSetAttribute", plan.key);
}

/// Descriptors and the heuristic's best algorithm for `key` (with a bias
/// epilogue: for `bias`).
Plan makePlan(MatmulState &s, const PlanKey &key, intptr_t bias) {
  const CublasLt &lt = s.lt;
  Plan plan;
  plan.key = key;
  checkLt(lt, lt.descCreate(&plan.desc, key.compute, CUDA_R_32F),
          "cublasLtMatmulDescCreate", key);
  if (key.bias) {
    cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    checkLt(lt,
            lt.descSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                &epilogue, sizeof(epilogue)),
            "cublasLtMatmulDescSetAttribute", key);
  }
  // Column-major C^T [n x m] = B^T [n x k] * A^T [k x m].
  plan.first = layout(lt, key, key.in, key.n, key.k);
  plan.second = layout(lt, key, key.in, key.k, key.m);
  plan.result = layout(lt, key, key.out, key.n, key.m);
  if (key.bias)
    setBias(lt, plan, bias);
  cublasLtMatmulPreference_t preference = nullptr;
  checkLt(lt, lt.preferenceCreate(&preference),
          "cublasLtMatmulPreferenceCreate", key);
  size_t workspace = kWorkspaceBytes;
  checkLt(lt,
          lt.preferenceSetAttribute(preference,
                                    CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                    &workspace, sizeof(workspace)),
          "cublasLtMatmulPreferenceSetAttribute", key);
  // cuBLASLt's first operand is B, its second A (column-major).
  const struct {
    cublasLtMatmulPreferenceAttributes_t attribute;
    uint32_t bytes;
  } alignments[] = {{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, key.alignB},
                    {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, key.alignA},
                    {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, key.alignC},
                    {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, key.alignD}};
  for (const auto &a : alignments)
    checkLt(lt,
            lt.preferenceSetAttribute(preference, a.attribute, &a.bytes,
                                      sizeof(a.bytes)),
            "cublasLtMatmulPreferenceSetAttribute", key);
  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  checkLt(lt,
          lt.heuristic(s.handle, plan.desc, plan.first, plan.second,
                       plan.result, plan.result, preference, 1, &result,
                       &found),
          "cublasLtMatmulAlgoGetHeuristic", key);
  lt.preferenceDestroy(preference);
  if (found < 1)
    checkLt(lt, CUBLAS_STATUS_NOT_SUPPORTED,
            "cublasLtMatmulAlgoGetHeuristic (no algorithm)", key);
  plan.algo = result.algo;
  return plan;
}

void destroyPlan(const CublasLt &lt, Plan &plan) {
  lt.layoutDestroy(plan.first);
  lt.layoutDestroy(plan.second);
  lt.layoutDestroy(plan.result);
  lt.descDestroy(plan.desc);
}

size_t elementBytes(cudaDataType_t type) { return type == CUDA_R_32F ? 4 : 2; }

void matmul(cudaDataType_t in, cudaDataType_t out, cublasComputeType_t compute,
            intptr_t a, intptr_t b, intptr_t c, intptr_t d, intptr_t bias,
            int64_t batch, int64_t m, int64_t n, int64_t k) {
  PlanKey key = {in,
                 out,
                 compute,
                 batch,
                 m,
                 n,
                 k,
                 bias != 0,
                 alignment(a),
                 alignment(b),
                 alignment(c ? c : d),
                 alignment(d),
                 alignment(bias)};
  if (batch < 0 || m < 0 || n < 0 || k < 0 || batch > INT32_MAX ||
      (bias && batch > 1)) {
    fprintf(stderr,
            "un_cuda_runtime: matmul of batch %lld, M %lld, N %lld, "
            "K %lld%s: sizes out of range\n",
            static_cast<long long>(batch), static_cast<long long>(m),
            static_cast<long long>(n), static_cast<long long>(k),
            bias ? " with a bias" : "");
    abort();
  }
  if (batch == 0 || m == 0 || n == 0)
    return;
  un_cuda::ensureContext();
  MatmulState &s = theMatmulState;
  pthread_mutex_lock(&s.mutex);
  CUstream stream = un_cuda::userStream();
  bool wait = !stream || un_cuda::synchronous();
  if (!stream) {
    if (!s.stream)
      CHECK(cuStreamCreate(&s.stream, CU_STREAM_NON_BLOCKING));
    stream = s.stream;
  }
  if (k == 0) {
    // An empty sum: D = C, or 0 (in 16-bit words: every element type is 2
    // or 4 bytes). The compiler fuses no bias into a matmul of K = 0.
    size_t bytes = static_cast<size_t>(batch * m * n) * elementBytes(out);
    if (bias) {
      fprintf(stderr, "un_cuda_runtime: a bias on a matmul of K = 0\n");
      abort();
    }
    if (!c)
      CHECK(
          cuMemsetD16Async(static_cast<CUdeviceptr>(d), 0, bytes / 2, stream));
    else if (c != d)
      CHECK(cuMemcpyAsync(static_cast<CUdeviceptr>(d),
                          static_cast<CUdeviceptr>(c), bytes, stream));
  } else {
    if (!s.initialized) {
      s.lt = loadCublasLt();
      checkLt(s.lt, s.lt.create(&s.handle), "cublasLtCreate", key);
      CHECK(cuMemAlloc(&s.workspace, kWorkspaceBytes));
      s.initialized = true;
    }
    Plan *plan = nullptr;
    for (int i = 0; i < s.planCount && !plan; ++i)
      if (s.plans[i].key == key)
        plan = &s.plans[i];
    Plan transient;
    if (!plan) {
      transient = makePlan(s, key, bias);
      plan = &transient;
      if (s.planCount < kMaxPlans)
        plan = &(s.plans[s.planCount++] = transient);
    } else if (bias) {
      setBias(s.lt, *plan, bias);
    }
    float alpha = 1.0f, beta = c ? 1.0f : 0.0f;
    checkLt(s.lt,
            s.lt.matmul(s.handle, plan->desc, &alpha,
                        reinterpret_cast<const void *>(b), plan->first,
                        reinterpret_cast<const void *>(a), plan->second, &beta,
                        reinterpret_cast<const void *>(c ? c : d), plan->result,
                        reinterpret_cast<void *>(d), plan->result, &plan->algo,
                        reinterpret_cast<void *>(s.workspace), kWorkspaceBytes,
                        reinterpret_cast<cudaStream_t>(stream)),
            "cublasLtMatmul", key);
    if (plan == &transient)
      destroyPlan(s.lt, transient);
  }
  pthread_mutex_unlock(&s.mutex);
  if (wait)
    CHECK(cuStreamSynchronize(stream));
}

} // namespace

#define UN_MATMUL_ENTRY(name, in, out, compute)                                \
  UN_CUDA_EXPORT void name(intptr_t a, intptr_t b, intptr_t c, intptr_t d,     \
                           intptr_t bias, int64_t batch, int64_t m, int64_t n, \
                           int64_t k) {                                        \
    matmul(in, out, compute, a, b, c, d, bias, batch, m, n, k);                \
  }

UN_MATMUL_ENTRY(un_cuda_matmul_f32, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F)
UN_MATMUL_ENTRY(un_cuda_matmul_f32_tf32, CUDA_R_32F, CUDA_R_32F,
                CUBLAS_COMPUTE_32F_FAST_TF32)
UN_MATMUL_ENTRY(un_cuda_matmul_bf16, CUDA_R_16BF, CUDA_R_16BF,
                CUBLAS_COMPUTE_32F)
UN_MATMUL_ENTRY(un_cuda_matmul_bf16_f32, CUDA_R_16BF, CUDA_R_32F,
                CUBLAS_COMPUTE_32F)
UN_MATMUL_ENTRY(un_cuda_matmul_f16, CUDA_R_16F, CUDA_R_16F, CUBLAS_COMPUTE_32F)
UN_MATMUL_ENTRY(un_cuda_matmul_f16_f32, CUDA_R_16F, CUDA_R_32F,
                CUBLAS_COMPUTE_32F)
