/*===- un_gpu_check.c - The CPU integration sequences on a GPU ------------===//
 *
 * Part of the un-mlir project.
 *
 *   un_gpu_check CHECK_DIR OUT_DIR [CASE]
 *
 * Runs every part (with CASE, the parts of that case only: run.sh runs
 * each case in a process of its own, so that a failure loses that case
 * alone) listed in CHECK_DIR/manifest.txt (written by
 * make_artifacts.py) through the compiled destination-passing functions
 * (`<part>_forward` + `<part>_backward` per training step, threading the
 * state on the device, or `<part>_infer`), and prints every output and
 * state value in mlir-runner's format into OUT_DIR/<case>.out, so that
 * check_outputs.py compares them with the `// EXPECTED:` values of
 * CHECK_DIR/<case>.mlir (the spec's reference), as for the CPU.
 *
 * manifest.txt lines:
 *   file <case>.mlir
 *   train <part> <dtype> <Mf> <Mb> <C> <steps> <masked> <rank>
 *   step <d0> ... <d_rank-1>          (one per step)
 *   infer <part> <dtype> <rank> <d0> ... <d_rank-1>
 * <part>.bin: training: gamma[C], beta[C] (activation type), then per step
 * x, gy (activation type), mask (one byte per token, when masked);
 * inference: x, gamma, beta (activation type), running_var[C] (f32).
 * bf16 is stored as the high 16 bits of an f32, f16 as IEEE half.
 *
 *===----------------------------------------------------------------------===*/

#include "common.h"

static FILE *out = NULL;
/* Whether the parts being read belong to the case that was asked for. */
static int active = 1;

/* f16 bits -> f32 bits (exact). */
static uint32_t half_to_f32_bits(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f)
    return sign | 0x7f800000u | (mant << 13);
  if (exp == 0) {
    if (mant == 0)
      return sign;
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while (!(mant & 0x400));
    mant &= 0x3ff;
    return sign | ((uint32_t)(127 - 15 - e) << 23) | (mant << 13);
  }
  return sign | ((exp + 127 - 15) << 23) | (mant << 13);
}

/* Prints a float buffer (stored in `dtype`) as f32 bit patterns. */
static void print_memref(const Buffer *b, const char *dtype) {
  int64_t n = numel(b);
  size_t bytes = (size_t)n * b->elem;
  unsigned char *host = malloc(bytes ? bytes : 1);
  download(host, b, bytes);
  fprintf(out, "Unranked Memref base@ = 0x0 rank = %d offset = 0 sizes = [",
          b->rank);
  for (int i = 0; i < b->rank; ++i)
    fprintf(out, "%s%lld", i ? ", " : "", (long long)b->dims[i]);
  fprintf(out, "] strides = [");
  for (int i = 0; i < b->rank; ++i)
    fprintf(out, "%s%lld", i ? ", " : "", (long long)b->desc[3 + b->rank + i]);
  fprintf(out, "] data =\n[");
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    if (b->elem == 4) {
      memcpy(&bits, host + 4 * i, 4);
    } else {
      uint16_t h;
      memcpy(&h, host + 2 * i, 2);
      bits = strcmp(dtype, "f16") == 0 ? half_to_f32_bits(h)
                                       : (uint32_t)h << 16;
    }
    fprintf(out, "%s%d", i ? ", " : "", (int32_t)bits);
  }
  fprintf(out, "]\n");
  free(host);
}

static void read_exact(FILE *f, void *dst, size_t bytes, const char *what) {
  if (bytes && fread(dst, 1, bytes, f) != bytes) {
    fprintf(stderr, "short read of %s\n", what);
    exit(2);
  }
}

static void run_training(FILE *manifest, const char *dir, const char *name,
                         const char *dtype, int64_t mf, int64_t mb, int64_t c,
                         int steps, int masked, int rank) {
  int64_t e = elem_bytes(dtype);
  int64_t (*dims)[MAX_RANK] = calloc(steps, sizeof(*dims));
  int64_t maxElems = 1;
  for (int s = 0; s < steps; ++s) {
    char word[16];
    int64_t n = 1;
    if (fscanf(manifest, "%15s", word) != 1 || strcmp(word, "step") != 0) {
      fprintf(stderr, "manifest: step expected\n");
      exit(2);
    }
    n = read_dims(manifest, rank, dims[s], "manifest (step)");
    if (n > maxElems)
      maxElems = n;
  }
  if (!active) {
    free(dims);
    return;
  }
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
  FILE *data = fopen(path, "rb");
  if (!data) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  Fn14 forward14 = masked ? (Fn14)lookup(name, "_forward") : NULL;
  Fn13 forward13 = masked ? NULL : (Fn13)lookup(name, "_forward");
  Fn13 backward = (Fn13)lookup(name, "_backward");

  Buffer gamma = buffer1(c, e), beta = buffer1(c, e);
  unsigned char *host = malloc(maxElems * 4 + 16);
  read_exact(data, host, c * e, "gamma");
  upload(&gamma, host, c * e);
  read_exact(data, host, c * e, "beta");
  upload(&beta, host, c * e);
  Buffer rv = buffer1(c, 4), rvNew = buffer1(c, 4);
  Buffer ema = buffer1(c, 4), emaNew = buffer1(c, 4);
  Buffer win = buffer2(mf, c, 4), winNew = buffer2(mf, c, 4);
  Buffer wgz = buffer2(mb, c, 4), wgzNew = buffer2(mb, c, 4);
  Buffer var = buffer1(c, 4), r = buffer1(c, 4);
  Buffer ggamma = buffer1(c, e), gbeta = buffer1(c, e);
  float *ones = malloc(c * sizeof(float));
  for (int64_t i = 0; i < c; ++i)
    ones[i] = 1.0f;
  upload(&rv, ones, c * 4);
  free(ones);
  Buffer x = buffer(maxElems, e, rank, dims[0]);
  Buffer gy = buffer(maxElems, e, rank, dims[0]);
  Buffer y = buffer(maxElems, e, rank, dims[0]);
  Buffer z = buffer(maxElems, e, rank, dims[0]);
  Buffer gx = buffer(maxElems, e, rank, dims[0]);
  Buffer mask = buffer(maxElems, 1, rank - 1, dims[0]);
  Buffer scalarsIn = buffer1(2, 8), scalarsOut = buffer1(2, 8);
  Buffer backwardScalars = buffer1(2, 8);
  int64_t skips = 0;
  for (int s = 0; s < steps; ++s) {
    int64_t t = s + 1;
    shape(&x, rank, dims[s]);
    shape(&gy, rank, dims[s]);
    shape(&y, rank, dims[s]);
    shape(&z, rank, dims[s]);
    shape(&gx, rank, dims[s]);
    size_t bytes = numel(&x) * e;
    read_exact(data, host, bytes, "x");
    upload(&x, host, bytes);
    read_exact(data, host, bytes, "gy");
    upload(&gy, host, bytes);
    if (masked) {
      shape(&mask, rank - 1, dims[s]);
      read_exact(data, host, numel(&mask), "mask");
      upload(&mask, host, numel(&mask));
    }
    int64_t scalars[2] = {t, skips};
    upload(&scalarsIn, scalars, sizeof(scalars));
    if (masked)
      forward14(x.desc, gamma.desc, beta.desc, rv.desc, win.desc,
                scalarsIn.desc, mask.desc, y.desc, z.desc, var.desc, r.desc,
                rvNew.desc, winNew.desc, scalarsOut.desc);
    else
      forward13(x.desc, gamma.desc, beta.desc, rv.desc, win.desc,
                scalarsIn.desc, y.desc, z.desc, var.desc, r.desc, rvNew.desc,
                winNew.desc, scalarsOut.desc);
    CU(cuCtxSynchronize());
    int64_t result[2];
    download(result, &scalarsOut, sizeof(result));
    int64_t backward_scalars[2] = {t, result[0]};
    upload(&backwardScalars, backward_scalars, sizeof(backward_scalars));
    backward(gy.desc, z.desc, var.desc, r.desc, gamma.desc, ema.desc, wgz.desc,
             backwardScalars.desc, gx.desc, ggamma.desc, gbeta.desc,
             emaNew.desc, wgzNew.desc);
    CU(cuCtxSynchronize());
    print_memref(&y, dtype);
    print_memref(&z, dtype);
    print_memref(&var, "f32");
    print_memref(&r, "f32");
    fprintf(out, "%lld\n", (long long)result[0]);
    print_memref(&rvNew, "f32");
    print_memref(&winNew, "f32");
    fprintf(out, "%lld\n", (long long)result[1]);
    print_memref(&gx, dtype);
    print_memref(&ggamma, dtype);
    print_memref(&gbeta, dtype);
    print_memref(&emaNew, "f32");
    print_memref(&wgzNew, "f32");
    swap(&rv, &rvNew);
    swap(&win, &winNew);
    swap(&ema, &emaNew);
    swap(&wgz, &wgzNew);
    skips = result[1];
  }
  fclose(data);
  free(host);
  free(dims);
  Buffer *all[] = {&gamma, &beta, &rv, &rvNew, &ema, &emaNew, &win, &winNew,
                   &wgz, &wgzNew, &var, &r, &ggamma, &gbeta, &x, &gy, &y,
                   &z, &gx, &mask, &scalarsIn, &scalarsOut, &backwardScalars};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); ++i)
    CU(cuMemFree(all[i]->ptr));
}

static void run_inference(FILE *manifest, const char *dir, const char *name,
                          const char *dtype, int rank) {
  int64_t e = elem_bytes(dtype);
  int64_t dims[MAX_RANK];
  read_dims(manifest, rank, dims, "manifest (infer)");
  if (!active)
    return;
  int64_t c = dims[rank - 1];
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
  FILE *data = fopen(path, "rb");
  if (!data) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  int64_t n = 1;
  for (int i = 0; i < rank; ++i)
    n *= dims[i];
  Buffer x = buffer(n, e, rank, dims), y = buffer(n, e, rank, dims);
  Buffer gamma = buffer1(c, e), beta = buffer1(c, e), rv = buffer1(c, 4);
  unsigned char *host = malloc(n * e + c * 4 + 16);
  read_exact(data, host, n * e, "x");
  upload(&x, host, n * e);
  read_exact(data, host, c * e, "gamma");
  upload(&gamma, host, c * e);
  read_exact(data, host, c * e, "beta");
  upload(&beta, host, c * e);
  read_exact(data, host, c * 4, "running_var");
  upload(&rv, host, c * 4);
  Fn5 infer = (Fn5)lookup(name, "_infer");
  infer(x.desc, gamma.desc, beta.desc, rv.desc, y.desc);
  CU(cuCtxSynchronize());
  print_memref(&y, dtype);
  fclose(data);
  free(host);
  CU(cuMemFree(x.ptr));
  CU(cuMemFree(y.ptr));
  CU(cuMemFree(gamma.ptr));
  CU(cuMemFree(beta.ptr));
  CU(cuMemFree(rv.ptr));
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s CHECK_DIR OUT_DIR [CASE]\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1], *outDir = argv[2];
  const char *only = argc == 4 ? argv[3] : NULL;
  un_cuda_init();
  char path[1024];
  snprintf(path, sizeof(path), "%s/manifest.txt", dir);
  FILE *manifest = fopen(path, "r");
  if (!manifest) {
    fprintf(stderr, "cannot open %s\n", path);
    return 2;
  }
  char word[64];
  int parts = 0;
  while (fscanf(manifest, "%63s", word) == 1) {
    if (strcmp(word, "file") == 0) {
      char file[256];
      if (fscanf(manifest, "%255s", file) != 1)
        return 2;
      char *dot = strrchr(file, '.');
      if (dot)
        *dot = 0;
      if (out)
        fclose(out);
      out = NULL;
      active = !only || strcmp(file, only) == 0;
      if (!active)
        continue;
      snprintf(path, sizeof(path), "%s/%s.out", outDir, file);
      out = fopen(path, "w");
      if (!out) {
        fprintf(stderr, "cannot write %s\n", path);
        return 2;
      }
      printf("%s\n", file);
    } else if (strcmp(word, "train") == 0) {
      char name[128], dtype[8];
      long long mf, mb, c;
      int steps, masked, rank;
      if (fscanf(manifest, "%127s %7s %lld %lld %lld %d %d %d", name, dtype,
                 &mf, &mb, &c, &steps, &masked, &rank) != 8)
        return 2;
      run_training(manifest, dir, name, dtype, mf, mb, c, steps, masked, rank);
      parts += active;
    } else if (strcmp(word, "infer") == 0) {
      char name[128], dtype[8];
      int rank;
      if (fscanf(manifest, "%127s %7s %d", name, dtype, &rank) != 3)
        return 2;
      run_inference(manifest, dir, name, dtype, rank);
      parts += active;
    } else {
      fprintf(stderr, "manifest: unexpected %s\n", word);
      return 2;
    }
  }
  if (out)
    fclose(out);
  fclose(manifest);
  if (only && !parts) {
    fprintf(stderr, "un_gpu_check: no part of case %s in %s\n", only, path);
    return 2;
  }
  printf("un_gpu_check: ran %d parts\n", parts);
  return 0;
}
