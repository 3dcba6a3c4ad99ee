/* A stand-in for libnccl.so.2 in tests without a GPU (test_gpu_collectives.py).
 *
 * ncclAllReduce copies the send buffer to the host with the loaded CUDA
 * driver's cuMemcpyDtoH (the fake driver's device memory is not host
 * readable), exchanges it with the other processes through files in
 * $FAKE_NCCL_DIR, sums the vectors in rank order and copies the sum into the
 * receive buffer with cuMemcpyHtoD. Each call appends a line to
 * $FAKE_NCCL_LOG: "rank R of N call K count C". Only float32 sums. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct { char internal[128]; } ncclUniqueId;
typedef struct {
  int size, rank;
  long calls;
  char tag[128];
} Comm;
typedef int (*Copy)(void *, uint64_t, size_t);

static const char *dir(void) {
  const char *d = getenv("FAKE_NCCL_DIR");
  return d ? d : "/tmp";
}

int ncclGetUniqueId(ncclUniqueId *id) {
  memset(id, 0, sizeof(*id));
  snprintf(id->internal, sizeof(id->internal), "fake-%ld-%ld", (long)getpid(),
           (long)time(NULL));
  return 0;
}

int ncclCommInitRank(Comm **comm, int size, ncclUniqueId id, int rank) {
  if (size < 1 || rank < 0 || rank >= size) return 4; /* invalid argument */
  Comm *c = calloc(1, sizeof(Comm));
  c->size = size;
  c->rank = rank;
  memcpy(c->tag, id.internal, sizeof(c->tag) - 1);
  *comm = c;
  return 0;
}

static void path(char *out, size_t n, const Comm *c, long call, int rank) {
  snprintf(out, n, "%s/%s.%ld.%d", dir(), c->tag, call, rank);
}

int ncclAllReduce(const void *send, void *recv, size_t count, int type, int op, Comm *c,
                  void *stream) {
  (void)stream;
  if (type != 7 || op != 0) return 4; /* float32 sums only */
  Copy toHost = (Copy)dlsym(RTLD_DEFAULT, "cuMemcpyDtoH_v2");
  int (*toDevice)(uint64_t, const void *, size_t) =
      (int (*)(uint64_t, const void *, size_t))dlsym(RTLD_DEFAULT, "cuMemcpyHtoD_v2");
  if (!toHost || !toDevice) return 1;
  size_t bytes = count * sizeof(float);
  float *mine = malloc(bytes ? bytes : 1), *sum = calloc(count ? count : 1, sizeof(float));
  if (toHost(mine, (uint64_t)(uintptr_t)send, bytes)) return 1;
  char file[4096], tmp[4200];
  path(file, sizeof(file), c, c->calls, c->rank);
  snprintf(tmp, sizeof(tmp), "%s.tmp", file);
  FILE *f = fopen(tmp, "wb");
  if (!f || fwrite(mine, 1, bytes, f) != bytes || fclose(f) || rename(tmp, file)) return 2;
  for (int r = 0; r < c->size; ++r) {
    path(file, sizeof(file), c, c->calls, r);
    struct stat st;
    for (int waited = 0; stat(file, &st) || (size_t)st.st_size != bytes; ++waited) {
      if (waited > 6000) return 6; /* 60 s */
      struct timespec pause = {0, 10000000};
      nanosleep(&pause, NULL);
    }
    f = fopen(file, "rb");
    if (!f || fread(mine, 1, bytes, f) != bytes) return 2;
    fclose(f);
    for (size_t i = 0; i < count; ++i) sum[i] += mine[i];
  }
  if (toDevice((uint64_t)(uintptr_t)recv, sum, bytes)) return 1;
  const char *log = getenv("FAKE_NCCL_LOG");
  if (log && (f = fopen(log, "a"))) {
    fprintf(f, "rank %d of %d call %ld count %zu\n", c->rank, c->size, c->calls, count);
    fclose(f);
  }
  ++c->calls;
  free(mine);
  free(sum);
  return 0;
}

const char *ncclGetErrorString(int result) {
  static char text[64];
  snprintf(text, sizeof(text), "fake NCCL error %d", result);
  return text;
}
