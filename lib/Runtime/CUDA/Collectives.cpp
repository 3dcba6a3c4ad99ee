//===- Collectives.cpp - All-reduces across processes with NCCL -*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// un_cuda_sum_across_ranks_f32, which un-gpu-collectives calls for each
// un.sum_across_ranks: an element-wise sum of an f32 device vector over the
// processes of the job, with NCCL.
//
// - The job: WORLD_SIZE and RANK (torchrun), else PMI_SIZE and PMI_RANK
//   (MPICH's mpirun), else OMPI_COMM_WORLD_SIZE and OMPI_COMM_WORLD_RANK
//   (Open MPI's); none of them: one process.
// - One process: the sum is the vector itself (a device copy when input
//   and output differ); NCCL is not needed.
// - Several: NCCL is loaded with dlopen on the first call (UN_NCCL_LIBRARY,
//   else libnccl.so.2: the library PyTorch's CUDA wheels carry, found by
//   the loader's search path or already loaded by torch), so the runtime
//   builds and runs without it. Rank 0 makes the communicator's unique id
//   and writes it to the file UN_NCCL_ID_FILE (a path every process sees,
//   new for each job); the others wait for it (UN_NCCL_TIMEOUT_S, 300 s by
//   default). The communicator is on the runtime's device (UN_CUDA_DEVICE).
// - The all-reduce is enqueued on the harness' stream when one is installed
//   (stream ordered with the kernels; the caller synchronizes when it made
//   calls asynchronous), else on a stream of its own after the kernels
//   before it finished (gpu-async-region waits before the call), and waited
//   for.
// Every failure is fatal, with a message that names what is missing.
//
//===----------------------------------------------------------------------===//

#include "Runtime.h"

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// The parts of NCCL's C API that are used (nccl.h is not needed to build).
struct NcclUniqueId {
  char internal[128];
};
using NcclComm = void *;
using NcclResult = int;
constexpr int kNcclFloat32 = 7;
constexpr int kNcclSum = 0;

struct Nccl {
  NcclResult (*getUniqueId)(NcclUniqueId *);
  NcclResult (*commInitRank)(NcclComm *, int, NcclUniqueId, int);
  NcclResult (*allReduce)(const void *, void *, size_t, int, int, NcclComm,
                          CUstream);
  const char *(*getErrorString)(NcclResult);
};

struct Collectives {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  bool initialized = false;
  int worldSize = 1;
  Nccl nccl = {};
  NcclComm comm = nullptr;
  CUstream stream = nullptr;
};

Collectives theCollectives; // constant-initialized

[[noreturn]] void fail(const char *message, const char *detail = "") {
  fprintf(stderr, "un_cuda_runtime: statistics across processes: %s%s\n",
          message, detail);
  abort();
}

void checkNccl(const Nccl &nccl, NcclResult result, const char *what) {
  if (result == 0)
    return;
  fprintf(stderr, "un_cuda_runtime: %s failed: %s\n", what,
          nccl.getErrorString ? nccl.getErrorString(result) : "?");
  abort();
}

/// The integer value of the first of `names` that is set, or -1.
int envInt(const char *const *names, int count, const char **found) {
  for (int i = 0; i < count; ++i)
    if (const char *value = getenv(names[i])) {
      char *end = nullptr;
      long parsed = strtol(value, &end, 10);
      if (!*value || *end || parsed < 0 || parsed > (1 << 30)) {
        fprintf(stderr,
                "un_cuda_runtime: statistics across processes: %s=\"%s\" "
                "is not a process count or rank\n",
                names[i], value);
        abort();
      }
      *found = names[i];
      return static_cast<int>(parsed);
    }
  *found = nullptr;
  return -1;
}

Nccl loadNccl() {
  const char *path;
  void *library = un_cuda::loadOptionalLibrary(
      "UN_NCCL_LIBRARY", "libnccl.so.2",
      "statistics across processes need NCCL", "PyPI: nvidia-nccl-cu13", &path);
  Nccl nccl;
#define UN_LOAD(field, name)                                                   \
  nccl.field = reinterpret_cast<decltype(nccl.field)>(                         \
      un_cuda::requireSymbol(library, path, name))
  UN_LOAD(getUniqueId, "ncclGetUniqueId");
  UN_LOAD(commInitRank, "ncclCommInitRank");
  UN_LOAD(allReduce, "ncclAllReduce");
  UN_LOAD(getErrorString, "ncclGetErrorString");
#undef UN_LOAD
  return nccl;
}

/// Rank 0 writes `id` to `path` (under a temporary name, then renamed, so
/// no process reads a partial file).
void publishId(const char *path, const NcclUniqueId &id) {
  char temporary[4096];
  if (snprintf(temporary, sizeof(temporary), "%s.%ld.tmp", path,
               static_cast<long>(getpid())) >= (int)sizeof(temporary))
    fail("UN_NCCL_ID_FILE is too long: ", path);
  FILE *file = fopen(temporary, "wb");
  bool written = file && fwrite(&id, sizeof(id), 1, file) == 1;
  if (file && fclose(file) != 0)
    written = false;
  if (!written || rename(temporary, path) != 0)
    fail("could not write the NCCL id to UN_NCCL_ID_FILE=", path);
}

/// The other ranks read it once it is there.
NcclUniqueId awaitId(const char *path) {
  double timeout = 300;
  if (const char *value = getenv("UN_NCCL_TIMEOUT_S"))
    timeout = atof(value);
  timespec pause = {0, 10 * 1000 * 1000};
  for (double waited = 0;; waited += 0.01) {
    struct stat status;
    if (stat(path, &status) == 0 &&
        status.st_size == static_cast<off_t>(sizeof(NcclUniqueId))) {
      NcclUniqueId id;
      FILE *file = fopen(path, "rb");
      bool read = file && fread(&id, sizeof(id), 1, file) == 1;
      if (file)
        fclose(file);
      if (read)
        return id;
    }
    if (waited >= timeout)
      fail("rank 0 wrote no NCCL id to UN_NCCL_ID_FILE=", path);
    nanosleep(&pause, nullptr);
  }
}

/// Reads the job's size and this process' rank; with several processes,
/// loads NCCL and creates the communicator (all ranks must call it).
void initialize(Collectives &c) {
  static const char *const sizes[] = {"WORLD_SIZE", "PMI_SIZE",
                                      "OMPI_COMM_WORLD_SIZE"};
  static const char *const ranks[] = {"RANK", "PMI_RANK",
                                      "OMPI_COMM_WORLD_RANK"};
  const char *sizeName = nullptr, *rankName = nullptr;
  int worldSize = envInt(sizes, 3, &sizeName);
  int rank = envInt(ranks, 3, &rankName);
  if (worldSize <= 1) {
    c.worldSize = 1;
    return;
  }
  if (rank < 0 || rank >= worldSize) {
    fprintf(stderr,
            "un_cuda_runtime: statistics across processes: %s=%d needs a "
            "rank in [0, %d) (RANK, PMI_RANK or OMPI_COMM_WORLD_RANK)\n",
            sizeName, worldSize, worldSize);
    abort();
  }
  c.worldSize = worldSize;
  const char *idFile = getenv("UN_NCCL_ID_FILE");
  if (!idFile || !*idFile)
    fail("set UN_NCCL_ID_FILE to a path that every process of the job sees "
         "(rank 0 writes the NCCL id there)");
  c.nccl = loadNccl();
  NcclUniqueId id;
  if (rank == 0) {
    checkNccl(c.nccl, c.nccl.getUniqueId(&id), "ncclGetUniqueId");
    publishId(idFile, id);
  } else {
    id = awaitId(idFile);
  }
  checkNccl(c.nccl, c.nccl.commInitRank(&c.comm, worldSize, id, rank),
            "ncclCommInitRank");
}

} // namespace

/// output[i] = sum over the processes of input[i], i < count (f32 device
/// vectors; input == output is allowed).
UN_CUDA_EXPORT void
un_cuda_sum_across_ranks_f32(intptr_t input, intptr_t output, intptr_t count) {
  un_cuda::ensureContext();
  Collectives &c = theCollectives;
  pthread_mutex_lock(&c.mutex);
  if (!c.initialized) {
    initialize(c);
    c.initialized = true;
  }
  if (c.worldSize == 1 && (input == output || count <= 0)) {
    pthread_mutex_unlock(&c.mutex); // one process, in place: nothing to do
    return;
  }
  CUstream stream = un_cuda::userStream();
  bool wait = !stream || un_cuda::synchronous();
  if (!stream) {
    if (!c.stream)
      CHECK(cuStreamCreate(&c.stream, CU_STREAM_NON_BLOCKING));
    stream = c.stream;
  }
  if (count > 0) {
    if (c.worldSize == 1) {
      if (input != output)
        CHECK(cuMemcpyAsync(
            static_cast<CUdeviceptr>(output), static_cast<CUdeviceptr>(input),
            static_cast<size_t>(count) * sizeof(float), stream));
    } else {
      checkNccl(c.nccl,
                c.nccl.allReduce(reinterpret_cast<const void *>(input),
                                 reinterpret_cast<void *>(output),
                                 static_cast<size_t>(count), kNcclFloat32,
                                 kNcclSum, c.comm, stream),
                "ncclAllReduce");
    }
  }
  pthread_mutex_unlock(&c.mutex);
  if (wait)
    CHECK(cuStreamSynchronize(stream));
}
