/*===- blocks.h - The UN-folded blocks of the GPU benchmark ---------------===//
 *
 * Part of the un-mlir project.
 *
 * make_artifacts.py generates blocks.c: one entry per block, calling its
 * compiled `_mlir_ciface_block_<key>_folded_dps` with `nargs` memref
 * descriptors (the inputs, then the output), whose shapes are listed in
 * check/blocks.txt. The table ends with a null key.
 *
 *===----------------------------------------------------------------------===*/

#ifndef UN_BENCH_GPU_BLOCKS_H
#define UN_BENCH_GPU_BLOCKS_H

typedef struct {
  const char *key;
  const char *check; /* check/block_<check>.bin: the expected output */
  double tolerance;  /* of the max error over max |y| */
  int nargs;
  void (*call)(void **descriptors);
} BlockCall;

extern const BlockCall un_block_calls[];

#endif /* UN_BENCH_GPU_BLOCKS_H */
