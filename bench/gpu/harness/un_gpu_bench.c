/*===- un_gpu_bench.c - Time the compiled UN kernels on a GPU -------------===//
 *
 * Part of the un-mlir project.
 *
 *   un_gpu_bench [ITERS [CONFIG]]
 *
 * Prints JSON lines: the device, a plain device-to-device copy (the
 * bandwidth ceiling, at each activation size and at 256 MiB), then for each
 * compiled configuration `bench_<shape>_<dtype>` (make_artifacts.py) the
 * time per call of the UN forward, backward, whole training step
 * (forward + backward) and inference, measured with CUDA events around
 * ITERS back-to-back calls on one stream (the runtime is told to skip the
 * end-of-call waits, so calls only enqueue work, as a framework runs
 * them), after warm-up calls.
 *
 * Bytes counted per call are the unavoidable traffic: forward reads x and
 * writes y and z; backward reads gy and z and writes gx; inference reads x
 * and writes y (per-channel vectors are negligible). GB/s = bytes / time;
 * `of_copy` is that over the copy's GB/s at the same size.
 *
 * Then each UN-folded Transformer block (`block-<kind>-b<batch>`: ViT-S
 * and BERT-base with 128 tokens, batch 1 and 8; make_artifacts.py): its
 * output on the inputs of `fill_value` (rounded to bf16 for a bf16 block)
 * against the same block compiled for the CPU (batch 1: `block_check`, max
 * error over max |y|), then its time per call, timed like the rest.
 *
 * CONFIG runs one part only: `copy` (256 MiB), `<shape>-<dtype>` (its copy
 * and its calls) or `block-<kind>-b<batch>`, so run.sh runs each in a
 * process of its own and a failure loses that part alone; `un_gpu_bench
 * list` prints them all (it makes no CUDA call).
 *
 *===----------------------------------------------------------------------===*/

#include "blocks.h"
#include "common.h"

#include <math.h>

static int iters = 200;
static CUstream stream;

typedef void (*Launch)(void *ctx);

/* Seconds per call of `fn(ctx)`, over `iters` calls after warm-up. */
static double time_calls(Launch fn, void *ctx) {
  for (int i = 0; i < 10; ++i)
    fn(ctx);
  CU(cuStreamSynchronize(stream));
  CUevent start, stop;
  CU(cuEventCreate(&start, CU_EVENT_DEFAULT));
  CU(cuEventCreate(&stop, CU_EVENT_DEFAULT));
  CU(cuEventRecord(start, stream));
  for (int i = 0; i < iters; ++i)
    fn(ctx);
  CU(cuEventRecord(stop, stream));
  CU(cuEventSynchronize(stop));
  float ms = 0;
  CU(cuEventElapsedTime(&ms, start, stop));
  CU(cuEventDestroy(start));
  CU(cuEventDestroy(stop));
  return ms * 1e-3 / iters;
}

/* The graph API of the driver, looked up at run time (a driver without it,
 * like the fake one of the host-side tests, still runs everything else). */
typedef struct {
  CUresult (*beginCapture)(CUstream, CUstreamCaptureMode);
  CUresult (*endCapture)(CUstream, CUgraph *);
  CUresult (*instantiate)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*launch)(CUgraphExec, CUstream);
  CUresult (*execDestroy)(CUgraphExec);
  CUresult (*destroy)(CUgraph);
} GraphApi;

static int graph_api(GraphApi *g) {
  g->beginCapture = (CUresult (*)(CUstream, CUstreamCaptureMode))dlsym(
      RTLD_DEFAULT, "cuStreamBeginCapture_v2");
  g->endCapture = (CUresult (*)(CUstream, CUgraph *))dlsym(
      RTLD_DEFAULT, "cuStreamEndCapture");
  g->instantiate =
      (CUresult (*)(CUgraphExec *, CUgraph, unsigned long long))dlsym(
          RTLD_DEFAULT, "cuGraphInstantiateWithFlags");
  g->launch =
      (CUresult (*)(CUgraphExec, CUstream))dlsym(RTLD_DEFAULT, "cuGraphLaunch");
  g->execDestroy =
      (CUresult (*)(CUgraphExec))dlsym(RTLD_DEFAULT, "cuGraphExecDestroy");
  g->destroy = (CUresult (*)(CUgraph))dlsym(RTLD_DEFAULT, "cuGraphDestroy");
  return g->beginCapture && g->endCapture && g->instantiate && g->launch &&
         g->execDestroy && g->destroy;
}

typedef struct {
  const GraphApi *api;
  CUgraphExec exec;
} GraphCtx;

static void launch_graph(void *p) {
  GraphCtx *g = p;
  CU(g->api->launch(g->exec, stream));
}

/* Time per call of `fn` replayed as one CUDA graph captured from a call
 * (its launches, allocations and library calls; no launch overhead), or a
 * negative value, with the reason on stderr, when it cannot be captured. */
static double time_graph(Launch fn, void *ctx) {
  GraphApi api;
  if (!graph_api(&api)) {
    fprintf(stderr, "un_gpu_bench: the driver has no graph API\n");
    return -1;
  }
  CUgraph graph;
  GraphCtx g = {&api, NULL};
  if (api.beginCapture(stream, CU_STREAM_CAPTURE_MODE_RELAXED) !=
      CUDA_SUCCESS) {
    fprintf(stderr, "un_gpu_bench: cannot capture the stream\n");
    return -1;
  }
  fn(ctx);
  CU(api.endCapture(stream, &graph));
  CU(api.instantiate(&g.exec, graph, 0));
  double s = time_calls(launch_graph, &g);
  CU(api.execDestroy(g.exec));
  CU(api.destroy(graph));
  return s;
}

typedef struct {
  CUdeviceptr src, dst;
  size_t bytes;
} CopyCtx;

static void copy_once(void *p) {
  CopyCtx *c = p;
  CU(cuMemcpyDtoDAsync(c->dst, c->src, c->bytes, stream));
}

/* Copy GB/s (read + write bytes) for `bytes`. */
static double copy_bandwidth(size_t bytes) {
  CopyCtx c = {0, 0, bytes};
  CU(cuMemAlloc(&c.src, bytes));
  CU(cuMemAlloc(&c.dst, bytes));
  CU(cuMemsetD8(c.src, 1, bytes));
  CU(cuCtxSynchronize());
  double s = time_calls(copy_once, &c);
  CU(cuMemFree(c.src));
  CU(cuMemFree(c.dst));
  printf("{\"kind\": \"copy\", \"bytes\": %zu, \"us\": %.3f, \"gbps\": %.1f}\n",
         bytes, s * 1e6, 2.0 * bytes / s * 1e-9);
  return 2.0 * bytes / s * 1e-9;
}

typedef struct {
  Fn13 forward, backward;
  Fn5 infer;
  Buffer x, gy, y, z, gx, gamma, beta, rv, rvNew, win, winNew, var, r, ggamma,
      gbeta, ema, emaNew, wgz, wgzNew, scalars, scalarsOut, backwardScalars;
} Config;

static void call_forward(void *p) {
  Config *c = p;
  c->forward(c->x.desc, c->gamma.desc, c->beta.desc, c->rv.desc, c->win.desc,
             c->scalars.desc, c->y.desc, c->z.desc, c->var.desc, c->r.desc,
             c->rvNew.desc, c->winNew.desc, c->scalarsOut.desc);
}

static void call_backward(void *p) {
  Config *c = p;
  c->backward(c->gy.desc, c->z.desc, c->var.desc, c->r.desc, c->gamma.desc,
              c->ema.desc, c->wgz.desc, c->backwardScalars.desc, c->gx.desc,
              c->ggamma.desc, c->gbeta.desc, c->emaNew.desc, c->wgzNew.desc);
}

static void call_step(void *p) {
  call_forward(p);
  call_backward(p);
}

static void call_infer(void *p) {
  Config *c = p;
  c->infer(c->x.desc, c->gamma.desc, c->beta.desc, c->rv.desc, c->y.desc);
}

static void fill_random(Buffer *b, const char *dtype, uint32_t seed) {
  int64_t n = numel(b);
  unsigned char *host = malloc(n * b->elem);
  uint32_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    float v = ((s >> 8) * (1.0f / 16777216.0f)) * 2.0f - 1.0f;
    uint32_t bits;
    memcpy(&bits, &v, 4);
    if (b->elem == 4)
      memcpy(host + 4 * i, &bits, 4);
    else {
      uint16_t h =
          (uint16_t)(bits >> 16); /* bf16 (the benchmarks' 16-bit type) */
      (void)dtype;
      memcpy(host + 2 * i, &h, 2);
    }
  }
  upload(b, host, n * b->elem);
  free(host);
}

static void bench(const char *shapeName, const char *dtype, int64_t batch,
                  int64_t tokens, int64_t c, double copyAtSize) {
  char name[64];
  snprintf(name, sizeof(name), "bench_%s_%s", shapeName, dtype);
  int64_t e = elem_bytes(dtype);
  int64_t dims[3] = {batch, tokens, c};
  int64_t n = batch * tokens * c;
  Config k;
  k.forward = (Fn13)lookup(name, "_forward");
  k.backward = (Fn13)lookup(name, "_backward");
  k.infer = (Fn5)lookup(name, "_infer");
  k.x = buffer(n, e, 3, dims);
  k.gy = buffer(n, e, 3, dims);
  k.y = buffer(n, e, 3, dims);
  k.z = buffer(n, e, 3, dims);
  k.gx = buffer(n, e, 3, dims);
  k.gamma = buffer1(c, e);
  k.beta = buffer1(c, e);
  k.ggamma = buffer1(c, e);
  k.gbeta = buffer1(c, e);
  k.rv = buffer1(c, 4);
  k.rvNew = buffer1(c, 4);
  k.var = buffer1(c, 4);
  k.r = buffer1(c, 4);
  k.ema = buffer1(c, 4);
  k.emaNew = buffer1(c, 4);
  k.win = buffer2(4, c, 4);
  k.winNew = buffer2(4, c, 4);
  k.wgz = buffer2(4, c, 4);
  k.wgzNew = buffer2(4, c, 4);
  k.scalars = buffer1(2, 8);
  k.scalarsOut = buffer1(2, 8);
  k.backwardScalars = buffer1(2, 8);
  fill_random(&k.x, dtype, 1);
  fill_random(&k.gy, dtype, 2);
  fill_random(&k.gamma, dtype, 3);
  fill_random(&k.beta, dtype, 4);
  float *ones = malloc(c * 4);
  for (int64_t i = 0; i < c; ++i)
    ones[i] = 1.0f;
  upload(&k.rv, ones, c * 4);
  free(ones);
  int64_t scalars[2] = {1, 0};
  upload(&k.scalars, scalars, sizeof(scalars));
  upload(&k.backwardScalars, scalars, sizeof(scalars));

  double act = (double)n * e;
  struct {
    const char *what;
    Launch fn;
    double bytes;
  } runs[] = {{"forward", call_forward, 3 * act},
              {"backward", call_backward, 3 * act},
              {"step", call_step, 6 * act},
              {"inference", call_infer, 2 * act}};
  for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); ++i) {
    double s = time_calls(runs[i].fn, &k);
    double gbps = runs[i].bytes / s * 1e-9;
    printf(
        "{\"kind\": \"un\", \"shape\": \"%s\", \"dims\": [%lld, %lld, %lld], "
        "\"dtype\": \"%s\", \"op\": \"%s\", \"us\": %.3f, \"bytes\": %.0f, "
        "\"gbps\": %.1f, \"of_copy\": %.3f}\n",
        shapeName, (long long)batch, (long long)tokens, (long long)c, dtype,
        runs[i].what, s * 1e6, runs[i].bytes, gbps, gbps / copyAtSize);
    fflush(stdout);
  }
  Buffer *all[] = {&k.x,          &k.gy,
                   &k.y,          &k.z,
                   &k.gx,         &k.gamma,
                   &k.beta,       &k.ggamma,
                   &k.gbeta,      &k.rv,
                   &k.rvNew,      &k.var,
                   &k.r,          &k.ema,
                   &k.emaNew,     &k.win,
                   &k.winNew,     &k.wgz,
                   &k.wgzNew,     &k.scalars,
                   &k.scalarsOut, &k.backwardScalars};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); ++i)
    CU(cuMemFree(all[i]->ptr));
}

/*---------------------------------------------------------------------------
 * UN-folded Transformer blocks
 *-------------------------------------------------------------------------*/

#define MAX_BLOCK_ARGS 32

/* Element i of argument a of a block (make_artifacts.py `fill`): a hash of
 * (a, i) mapped to [-1, 1), scaled by 0.1 for the weights. */
static float fill_value(uint32_t a, uint32_t i) {
  uint32_t h = i * 0x9E3779B1u + a * 0x85EBCA77u;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  float u = (float)(h >> 8) * (1.0f / 8388608.0f) - 1.0f;
  return a == 0 ? u : 0.1f * u;
}

/* f32 -> bf16, rounded to nearest even (as arith.truncf on the CPU). */
static uint16_t to_bf16(float v) {
  uint32_t bits;
  memcpy(&bits, &v, 4);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) /* NaN stays NaN */
    return (uint16_t)((bits >> 16) | 0x40);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return (uint16_t)(bits >> 16);
}

static float from_bf16(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float v;
  memcpy(&v, &bits, 4);
  return v;
}

typedef struct {
  const BlockCall *block;
  void *desc[MAX_BLOCK_ARGS];
} BlockCtx;

static void call_block(void *p) {
  BlockCtx *c = p;
  c->block->call(c->desc);
}

/* The element sizes (4: f32, 2: bf16) and shapes of block `key` from
 * check/blocks.txt. */
static void block_shapes(const char *key, int nargs, int *elems, int *ranks,
                         int64_t (*dims)[MAX_RANK]) {
  FILE *f = fopen("check/blocks.txt", "r");
  if (!f) {
    fprintf(stderr, "cannot open check/blocks.txt\n");
    exit(2);
  }
  char word[64], name[64];
  int n;
  while (fscanf(f, "%63s %63s %d", word, name, &n) == 3) {
    int match = strcmp(word, "block") == 0 && strcmp(name, key) == 0;
    for (int a = 0; a < n; ++a) {
      int rank;
      if (fscanf(f, "%63s %d", word, &rank) != 2 || rank > MAX_RANK ||
          (strcmp(word, "f32") != 0 && strcmp(word, "bf16") != 0)) {
        fprintf(stderr, "check/blocks.txt: bad arg line\n");
        exit(2);
      }
      int64_t read[MAX_RANK];
      read_dims(f, rank, read, "check/blocks.txt");
      if (match && a < nargs) {
        memcpy(dims[a], read, sizeof(read));
        ranks[a] = rank;
        elems[a] = strcmp(word, "f32") == 0 ? 4 : 2;
      }
    }
    if (match) {
      fclose(f);
      if (n != nargs) {
        fprintf(stderr, "block %s: %d args listed, %d called\n", key, n, nargs);
        exit(2);
      }
      return;
    }
  }
  fprintf(stderr, "block %s is not in check/blocks.txt\n", key);
  exit(2);
}

/* The block's output against the CPU's (check/block_<key>.bin, batch-1
 * blocks), then its time per call. */
static void bench_block(const BlockCall *block) {
  int nargs = block->nargs, elems[MAX_BLOCK_ARGS], ranks[MAX_BLOCK_ARGS];
  int64_t dims[MAX_BLOCK_ARGS][MAX_RANK];
  if (nargs > MAX_BLOCK_ARGS) {
    fprintf(stderr, "block %s: too many args\n", block->key);
    exit(2);
  }
  block_shapes(block->key, nargs, elems, ranks, dims);
  Buffer bufs[MAX_BLOCK_ARGS];
  BlockCtx ctx = {block, {0}};
  for (int a = 0; a < nargs; ++a) {
    int64_t n = 1;
    for (int d = 0; d < ranks[a]; ++d)
      n *= dims[a][d];
    bufs[a] = buffer(n, elems[a], ranks[a], dims[a]);
    if (a < nargs - 1) { /* an input; the last is the output */
      void *host = malloc(n * elems[a]);
      for (int64_t i = 0; i < n; ++i) {
        float v = fill_value((uint32_t)a, (uint32_t)i);
        if (elems[a] == 4)
          ((float *)host)[i] = v;
        else
          ((uint16_t *)host)[i] = to_bf16(v);
      }
      upload(&bufs[a], host, n * elems[a]);
      free(host);
    }
    ctx.desc[a] = bufs[a].desc;
  }
  Buffer *y = &bufs[nargs - 1];
  int64_t n = numel(y);
  call_block(&ctx);
  CU(cuStreamSynchronize(stream));
  char path[256];
  snprintf(path, sizeof(path), "check/block_%s.bin", block->check);
  FILE *f = fopen(path, "rb");
  if (f) {
    float *got = malloc(n * 4), *want = malloc(n * 4);
    if (elems[nargs - 1] == 4) {
      download(got, y, n * 4);
    } else { /* bf16, widened in place from the back */
      download(got, y, n * 2);
      for (int64_t i = n - 1; i >= 0; --i)
        got[i] = from_bf16(((uint16_t *)got)[i]);
    }
    size_t read = fread(want, 4, n, f);
    fclose(f);
    double err = read == (size_t)n ? 0 : INFINITY, scale = 0;
    for (int64_t i = 0; i < n && read == (size_t)n; ++i) {
      double d = fabs((double)got[i] - want[i]);
      err = (isnan(got[i]) || d > err) ? (isnan(got[i]) ? INFINITY : d) : err;
      scale = fmax(scale, fabs((double)want[i]));
    }
    double rel = err / fmax(scale, 1e-30);
    printf("{\"kind\": \"block_check\", \"block\": \"%s\", "
           "\"max_error\": %.3g, \"of_max\": %.3g, \"tolerance\": %g, "
           "\"ok\": %s}\n",
           block->key, err, rel, block->tolerance,
           rel <= block->tolerance ? "true" : "false");
    free(got);
    free(want);
  }
  double s = time_calls(call_block, &ctx);
  printf("{\"kind\": \"block\", \"block\": \"%s\", \"dims\": [%lld, "
         "%lld, %lld], \"us\": %.3f}\n",
         block->key, (long long)y->dims[0], (long long)y->dims[1],
         (long long)y->dims[2], s * 1e6);
  fflush(stdout);
  /* The same calls as one CUDA graph (after the row above is out: a
   * capture the driver refuses aborts this process only). */
  double g = time_graph(call_block, &ctx);
  if (g >= 0)
    printf("{\"kind\": \"block_graph\", \"block\": \"%s\", \"us\": %.3f}\n",
           block->key, g * 1e6);
  fflush(stdout);
  for (int a = 0; a < nargs; ++a)
    CU(cuMemFree(bufs[a].ptr));
}

/* The UN kernel configurations: shapes and element types. */
static const struct {
  const char *name;
  int64_t b, t, c;
} kShapes[] = {{"vits", 8, 197, 384},
               {"bert", 8, 512, 768},
               {"bert_b128", 128, 512, 768}}; /* above L2: HBM */
static const size_t kNumShapes = sizeof(kShapes) / sizeof(kShapes[0]);
static const char *kDtypes[] = {"f32", "bf16"};

/* Prints every configuration CONFIG may name, one per line. */
static void list_configs(void) {
  printf("copy\n");
  for (size_t s = 0; s < kNumShapes; ++s)
    for (size_t d = 0; d < 2; ++d)
      printf("%s-%s\n", kShapes[s].name, kDtypes[d]);
  for (const BlockCall *block = un_block_calls; block->key; ++block)
    printf("block-%s\n", block->key);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "list") == 0) {
    list_configs();
    return 0;
  }
  if (argc > 1)
    iters = atoi(argv[1]);
  const char *only = argc > 2 ? argv[2] : NULL;
  if (iters < 1 || argc > 3) {
    fprintf(stderr, "usage: %s [ITERS [CONFIG]] | list\n", argv[0]);
    return 2;
  }
  un_cuda_init();
  CUdevice device;
  CU(cuCtxGetDevice(&device));
  char deviceName[256];
  CU(cuDeviceGetName(deviceName, sizeof(deviceName), device));
  int sms = 0, major = 0, minor = 0;
  CU(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                          device));
  CU(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                          device));
  CU(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                          device));
  printf("{\"kind\": \"device\", \"name\": \"%s\", \"sms\": %d, "
         "\"compute_capability\": \"%d.%d\", \"iters\": %d}\n",
         deviceName, sms, major, minor, iters);
  CU(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  un_cuda_set_stream(stream);
  un_cuda_set_synchronous(0);

  int ran = 0;
  if (!only || strcmp(only, "copy") == 0) {
    copy_bandwidth((size_t)256 << 20);
    ++ran;
  }
  for (size_t s = 0; s < kNumShapes; ++s)
    for (size_t d = 0; d < 2; ++d) {
      char config[32];
      snprintf(config, sizeof(config), "%s-%s", kShapes[s].name, kDtypes[d]);
      if (only && strcmp(only, config) != 0)
        continue;
      ++ran;
      int64_t e = elem_bytes(kDtypes[d]);
      double copy = copy_bandwidth(
          (size_t)(kShapes[s].b * kShapes[s].t * kShapes[s].c * e));
      bench(kShapes[s].name, kDtypes[d], kShapes[s].b, kShapes[s].t,
            kShapes[s].c, copy);
    }
  for (const BlockCall *block = un_block_calls; block->key; ++block) {
    char config[64];
    snprintf(config, sizeof(config), "block-%s", block->key);
    if (only && strcmp(only, config) != 0)
      continue;
    ++ran;
    bench_block(block);
  }
  un_cuda_set_synchronous(1);
  un_cuda_set_stream(NULL);
  CU(cuStreamDestroy(stream));
  if (!ran) {
    fprintf(stderr, "un_gpu_bench: no configuration %s (`un_gpu_bench list`)\n",
            only);
    return 2;
  }
  return 0;
}
