"""Numbers of the CPU code generation of un-cpu-pipeline (lib/Codegen/CPU).

- matmuls with fused epilogues (bias, GELU, residual) at shapes that
  exercise every remainder: M and N not multiples of the register tile,
  K split into several blocks;
- matmuls with a dynamic M (batch x tokens) of every remainder size;
- elementwise and reduction ops on vectors (softmax, layer norm, a column
  sum), rows shorter and longer than a vector;
- whole blocks compiled with `threads=true`: bit-identical to one thread.

Compared with numpy in float64 (relative 1e-5, with the absolute floor of
harness.assert_close). Nothing here depends on the host's vector width:
the shapes cover the remainders of 4, 8 and 16 lanes alike.
"""

import numpy as np
import pytest

from conftest import UN_OPT
from un_mlir import aot, blocks, harness, memref

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")


# un-cpu-pipeline's stages up to the CPU code generation (the attention
# left unfused).
TO_BUFFERS = ["un-to-linalg-pipeline", "un-cpu-reciprocal-division", "eliminate-empty-tensors",
              "one-shot-bufferize{bufferize-function-boundaries "
              "function-boundary-type-conversion=identity-layout-map}",
              "canonicalize", "buffer-deallocation-pipeline", "convert-bufferization-to-memref"]


def _t(shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def gelu(u):
    return 0.5 * u * (1 + np.tanh(0.7978845608 * (u + 0.044715 * u ** 3)))


def epilogue_text(name, m, k, n):
    """y = gelu(a @ b + bias) + res."""
    a, b, c, row = _t((m, k)), _t((k, n)), _t((m, n)), _t((n,))
    return f"""
func.func @{name}(%a: {a}, %b: {b}, %bias: {row}, %res: {c}) -> {c} {{
  %zero = arith.constant 0.0 : f32
  %c3 = arith.constant 3 : i32
  %k3 = arith.constant 0.044715 : f32
  %k = arith.constant 0.7978845608 : f32
  %one = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : {c}
  %f = linalg.fill ins(%zero : f32) outs(%e : {c}) -> {c}
  %mm = linalg.matmul ins(%a, %b : {a}, {b}) outs(%f : {c}) -> {c}
  %y = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>,
                                        affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}}
      ins(%mm, %bias, %res : {c}, {row}, {c}) outs(%e : {c}) {{
  ^bb0(%x: f32, %bb: f32, %r: f32, %o: f32):
    %u = arith.addf %x, %bb : f32
    %u3 = math.fpowi %u, %c3 : f32, i32
    %p = arith.mulf %u3, %k3 : f32
    %q = arith.addf %u, %p : f32
    %s = arith.mulf %q, %k : f32
    %th = math.tanh %s : f32
    %t1 = arith.addf %th, %one : f32
    %h = arith.mulf %u, %half : f32
    %g = arith.mulf %h, %t1 : f32
    %out = arith.addf %g, %r : f32
    linalg.yield %out : f32
  }} -> {c}
  return %y : {c}
}}
"""


# M x K x N: remainders of 4, 8 and 16 lanes and of 6 and 12 rows; K over
# several blocks on every target (KC is 512 with AVX-512, 1024 with AVX2,
# 2048 with SSE or NEON).
EPILOGUE_SHAPES = [(1, 3, 5), (7, 64, 17), (37, 700, 45), (13, 1100, 33), (9, 2500, 24)]


EPILOGUE_NAMES = [f"epi_{m}_{k}_{n}" for m, k, n in EPILOGUE_SHAPES]
EPILOGUE_TEXT = "".join(epilogue_text(nm, *s) for nm, s in zip(EPILOGUE_NAMES, EPILOGUE_SHAPES))


def check_epilogue(fn, shape, what):
    """`fn` (epilogue_text's function) against float64 numpy."""
    m, k, n = shape
    rng = np.random.default_rng(m * k * n)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    bias = rng.standard_normal(n, dtype=np.float32)
    res = rng.standard_normal((m, n), dtype=np.float32)
    (got,) = fn(a, b, bias, res)
    u = a.astype(np.float64) @ b.astype(np.float64) + bias
    harness.assert_close(got, gelu(u) + res, rtol=1e-5, what=f"{what} {shape}")


@pytest.fixture(scope="module")
def epilogues(tmp_path_factory):
    library = tmp_path_factory.mktemp("epilogue") / "epilogue.so"
    return EPILOGUE_TEXT, harness.compile_module(EPILOGUE_TEXT, EPILOGUE_NAMES, library)


def test_epilogues_are_fused(epilogues):
    text, _ = epilogues
    lowered = aot.run_un_opt(text, TO_BUFFERS + ["un-cpu-tile-and-vectorize"])
    assert "linalg.matmul" not in lowered and "linalg.generic" not in lowered


@pytest.mark.parametrize("shape", EPILOGUE_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_epilogue_numbers(epilogues, shape):
    _, fns = epilogues
    check_epilogue(fns["epi_{}_{}_{}".format(*shape)], shape, "epilogue")


DYNAMIC_M = """
func.func @mm_dynamic_m(%a: memref<?x100xf32>, %b: memref<100x21xf32>, %bias: memref<21xf32>,
                        %y: memref<?x21xf32>) attributes {llvm.emit_c_interface} {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = memref.dim %a, %c0 : memref<?x100xf32>
  %c = memref.alloc(%m) : memref<?x21xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x21xf32>)
  linalg.matmul ins(%a, %b : memref<?x100xf32>, memref<100x21xf32>) outs(%c : memref<?x21xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<21xf32>) outs(%c : memref<?x21xf32>) {
  ^bb0(%bb: f32, %x: f32):
    %s = arith.addf %x, %bb : f32
    linalg.yield %s : f32
  }
  memref.copy %c, %y : memref<?x21xf32> to memref<?x21xf32>
  return
}
"""


@pytest.fixture(scope="module")
def dynamic_m(tmp_path_factory):
    library = tmp_path_factory.mktemp("dynamic") / "dynamic.so"
    aot.compile_shared_library(DYNAMIC_M, library)
    return memref.CompiledFunction(memref.load(library), "mm_dynamic_m")


@pytest.mark.parametrize("m", [1, 5, 6, 7, 12, 13, 25, 64])
def test_dynamic_m(dynamic_m, m):
    rng = np.random.default_rng(m)
    a = rng.standard_normal((m, 100), dtype=np.float32)
    b = rng.standard_normal((100, 21), dtype=np.float32)
    bias = rng.standard_normal(21, dtype=np.float32)
    y = np.full((m, 21), np.nan, np.float32)
    dynamic_m(a, b, bias, y)
    harness.assert_close(y, a.astype(np.float64) @ b + bias, what=f"M={m}")


def test_memref_arguments_in_another_byte_order_are_rejected(dynamic_m):
    a = np.zeros((5, 100), np.float32)
    b = np.zeros((100, 21), np.float32)
    bias, y = np.zeros(21, np.float32), np.zeros((5, 21), np.float32)
    with pytest.raises(ValueError, match="byte order"):
        dynamic_m(a.astype(a.dtype.newbyteorder(">")), b, bias, y)


def reductions_text(rows, cols):
    s, r = _t((rows, cols)), _t((rows,))
    col = _t((cols,))
    return f"""
func.func @softmax_{rows}_{cols}(%x: {s}) -> {s} {{
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : {r}
  %mi = linalg.fill ins(%ninf : f32) outs(%e0 : {r}) -> {r}
  %mx = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                        iterator_types = ["parallel", "reduction"]}} ins(%x : {s}) outs(%mi : {r}) {{
  ^bb0(%a: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  }} -> {r}
  %e1 = tensor.empty() : {s}
  %ex = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>,
                                         affine_map<(i, j) -> (i, j)>],
                        iterator_types = ["parallel", "parallel"]}} ins(%x, %mx : {s}, {r}) outs(%e1 : {s}) {{
  ^bb0(%a: f32, %m: f32, %o: f32):
    %d = arith.subf %a, %m : f32
    %v = math.exp %d : f32
    linalg.yield %v : f32
  }} -> {s}
  %zi = linalg.fill ins(%zero : f32) outs(%e0 : {r}) -> {r}
  %sm = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                        iterator_types = ["parallel", "reduction"]}} ins(%ex : {s}) outs(%zi : {r}) {{
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %acc, %a : f32
    linalg.yield %t : f32
  }} -> {r}
  %p = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}} ins(%ex, %sm : {s}, {r}) outs(%e1 : {s}) {{
  ^bb0(%a: f32, %t: f32, %o: f32):
    %q = arith.divf %a, %t : f32
    linalg.yield %q : f32
  }} -> {s}
  return %p : {s}
}}

func.func @colsum_{rows}_{cols}(%x: {s}) -> {col} {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {col}
  %z = linalg.fill ins(%zero : f32) outs(%e : {col}) -> {col}
  %c = linalg.generic {{indexing_maps = [affine_map<(j, i) -> (i, j)>, affine_map<(j, i) -> (j)>],
                       iterator_types = ["parallel", "reduction"]}} ins(%x : {s}) outs(%z : {col}) {{
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %t = arith.addf %acc, %sq : f32
    linalg.yield %t : f32
  }} -> {col}
  return %c : {col}
}}
"""


REDUCTION_SHAPES = [(3, 5), (6, 197), (2, 1000), (5, 33)]


@pytest.fixture(scope="module")
def reductions(tmp_path_factory):
    text = "".join(reductions_text(*s) for s in REDUCTION_SHAPES)
    names = [f"{k}_{r}_{c}" for r, c in REDUCTION_SHAPES for k in ("softmax", "colsum")]
    library = tmp_path_factory.mktemp("reductions") / "reductions.so"
    return harness.compile_module(text, names, library)


@pytest.mark.parametrize("shape", REDUCTION_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_softmax_and_column_sums(reductions, shape):
    rows, cols = shape
    rng = np.random.default_rng(rows * cols)
    x = (4 * rng.standard_normal(shape)).astype(np.float32)
    (p,) = reductions[f"softmax_{rows}_{cols}"](x)
    e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    harness.assert_close(p, e / e.sum(axis=1, keepdims=True), what=f"softmax {shape}")
    (c,) = reductions[f"colsum_{rows}_{cols}"](x)
    harness.assert_close(c, (x.astype(np.float64) ** 2).sum(axis=0), what=f"colsum {shape}")


@pytest.mark.parametrize("kind,dims", [("vit", blocks.SMALL), ("vit", blocks.VIT_S),
                                       ("bert", blocks.SMALL)], ids=["vit-small", "vit-s", "bert-small"])
def test_threads_give_the_same_bits(tmp_path, kind, dims):
    name = f"{kind}_block"
    text = aot.run_un_opt(blocks.block_mlir(kind, "un", dims, name=name), ["un-inference-pipeline"])
    inputs = blocks.example_inputs(kind, "un", dims, np.random.default_rng(3))
    outputs = []
    for threads in (False, True):
        pipeline = ["un-cpu-pipeline{threads=true}"] if threads else "un-cpu-pipeline"
        fn = harness.compile_module(text, [name], tmp_path / f"{kind}_{threads}.so", pipeline)[name]
        outputs.append(fn(*inputs)[0])
    assert np.array_equal(outputs[0], outputs[1])
    assert b"libomp" in (tmp_path / f"{kind}_True.so").read_bytes()


def test_dynamic_m_epilogue_is_fused():
    lowered = aot.run_un_opt(DYNAMIC_M, TO_BUFFERS + ["un-cpu-tile-and-vectorize"])
    assert "linalg." not in lowered, "matmul, fill or bias generic left"


# The CPU pipeline with the micro-kernel's tile given explicitly: the
# AVX-512 geometry (12 rows, 32 columns, K blocks of 512) and a small one,
# run on this host's vectors, so every tile shape's loops are checked by
# number whatever CPU the tests run on.
def pipeline_with_tile(tile_m, tile_n, tile_k):
    return TO_BUFFERS + [
            f"un-cpu-tile-and-vectorize{{tile-m={tile_m} tile-n={tile_n} tile-k={tile_k}}}",
            "un-cpu-vectorize-generics", "un-cpu-outline-kernels", "convert-linalg-to-loops",
            "un-cpu-approximate-math", "convert-vector-to-scf{full-unroll=true}",
            "expand-strided-metadata", "lower-affine", "arith-expand{include-bf16}",
            "convert-vector-to-llvm", "convert-math-to-llvm", "convert-math-to-libm",
            "finalize-memref-to-llvm", "convert-scf-to-cf", "convert-to-llvm",
            "reconcile-unrealized-casts"]


@pytest.mark.parametrize("tile", [(12, 32, 512), (4, 16, 64)], ids=["12x32", "4x16"])
def test_tile_geometries(tmp_path, tile):
    # (16 and 32 columns are whole vectors for 4, 8 and 16 lanes alike.)
    fns = harness.compile_module(EPILOGUE_TEXT, EPILOGUE_NAMES, tmp_path / "tile.so",
                                 pipeline_with_tile(*tile))
    for shape, name in zip(EPILOGUE_SHAPES, EPILOGUE_NAMES):
        check_epilogue(fns[name], shape, f"tile {tile}")


def bf16_text(name, m, k, n):
    """c = a @ b with a and b rounded to bf16 (f32 accumulation, f32 result)."""
    a, b, c = _t((m, k)), _t((k, n)), _t((m, n))
    ah, bh = a.replace("f32", "bf16"), b.replace("f32", "bf16")
    return f"""
func.func @{name}(%a: {a}, %b: {b}) -> {c} {{
  %zero = arith.constant 0.0 : f32
  %ah = arith.truncf %a : {a} to {ah}
  %bh = arith.truncf %b : {b} to {bh}
  %e = tensor.empty() : {c}
  %f = linalg.fill ins(%zero : f32) outs(%e : {c}) -> {c}
  %mm = linalg.matmul ins(%ah, %bh : {ah}, {bh}) outs(%f : {c}) -> {c}
  return %mm : {c}
}}
"""


def to_bf16(x):
    """`x` (f32) rounded to the nearest bf16, ties to even, as f64."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)


BF16_SHAPES = [(7, 64, 17), (37, 700, 45), (13, 1100, 33)]
BF16_NAMES = [f"bf16_{m}_{k}_{n}" for m, k, n in BF16_SHAPES]
BF16_TEXT = "".join(bf16_text(nm, *s) for nm, s in zip(BF16_NAMES, BF16_SHAPES))


def test_bf16_matmul_takes_the_micro_kernel():
    lowered = aot.run_un_opt(BF16_TEXT, TO_BUFFERS + ["un-cpu-tile-and-vectorize"])
    assert "linalg.matmul" not in lowered
    assert "vector<8xbf16>" in lowered or "vector<16xbf16>" in lowered or "vector<4xbf16>" in lowered


def test_bf16_matmul_numbers(tmp_path):
    fns = harness.compile_module(BF16_TEXT, BF16_NAMES, tmp_path / "bf16.so")
    for (m, k, n), name in zip(BF16_SHAPES, BF16_NAMES):
        rng = np.random.default_rng(m + k + n)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        (got,) = fns[name](a, b)
        harness.assert_close(got, to_bf16(a) @ to_bf16(b), rtol=1e-5, what=f"bf16 {m}x{k}x{n}")
