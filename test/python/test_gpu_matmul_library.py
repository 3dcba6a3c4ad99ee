"""Matmuls as cuBLASLt calls (`un-cuda-pipeline{matmul-library=cublaslt}`),
host side, without a GPU: functions compiled by the CUDA pipeline run under
a fake CUDA driver (device memory the host cannot touch) with a fake
cuBLASLt (test/python/fake_cublaslt.c: it computes the product on the host
through the driver's copies), so what the runtime passes to cuBLASLt (the
column-major operand order, sizes, batch strides, types, compute type,
beta) decides the numbers checked here against numpy. On a GPU the real
library computes them (bench/gpu)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import CUDA_RUNTIME as RUNTIME
from conftest import FAKECUDA, ROOT, build_fake_cublaslt, cuda_host_skips

pytestmark = cuda_host_skips(cublaslt=True)

C_IFACE = "attributes {llvm.emit_c_interface}"
FUNCTIONS = f"""
#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>
func.func @zero_init(%a: tensor<37x40xf32>, %b: tensor<40x50xf32>) -> tensor<37x50xf32> {C_IFACE} {{
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x50xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<37x50xf32>) -> tensor<37x50xf32>
  %r = linalg.matmul ins(%a, %b : tensor<37x40xf32>, tensor<40x50xf32>)
                     outs(%f : tensor<37x50xf32>) -> tensor<37x50xf32>
  return %r : tensor<37x50xf32>
}}
func.func @dynamic_accumulate(%a: tensor<?x24xf32>, %b: tensor<24x?xf32>, %c: tensor<?x?xf32>)
    -> tensor<?x?xf32> {C_IFACE} {{
  %r = linalg.matmul ins(%a, %b : tensor<?x24xf32>, tensor<24x?xf32>)
                     outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}}
func.func @batch_bf16(%a: tensor<3x9x16xbf16>, %b: tensor<3x16x11xbf16>) -> tensor<3x9x11xf32> {C_IFACE} {{
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x9x11xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x9x11xf32>) -> tensor<3x9x11xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<3x9x16xbf16>, tensor<3x16x11xbf16>)
                           outs(%f : tensor<3x9x11xf32>) -> tensor<3x9x11xf32>
  return %r : tensor<3x9x11xf32>
}}
func.func @batch_f16(%a: tensor<2x5x8xf16>, %b: tensor<2x8x6xf16>, %c: tensor<2x5x6xf16>)
    -> tensor<2x5x6xf16> {C_IFACE} {{
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x5x8xf16>, tensor<2x8x6xf16>)
                           outs(%c : tensor<2x5x6xf16>) -> tensor<2x5x6xf16>
  return %r : tensor<2x5x6xf16>
}}
func.func @bf16_linear(%a: tensor<37x40xbf16>, %b: tensor<40x50xbf16>, %bias: tensor<50xbf16>,
                       %res: tensor<37x50xbf16>) -> tensor<37x50xbf16> {C_IFACE} {{
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x50xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<37x50xf32>) -> tensor<37x50xf32>
  %p = linalg.matmul ins(%a, %b : tensor<37x40xbf16>, tensor<40x50xbf16>)
                     outs(%f : tensor<37x50xf32>) -> tensor<37x50xf32>
  %eh = tensor.empty() : tensor<37x50xbf16>
  %r = linalg.generic {{indexing_maps = [#id, #col, #id, #id],
                       iterator_types = ["parallel", "parallel"]}}
      ins(%p, %bias, %res : tensor<37x50xf32>, tensor<50xbf16>, tensor<37x50xbf16>)
      outs(%eh : tensor<37x50xbf16>) {{
  ^bb0(%x: f32, %y: bf16, %w: bf16, %o: bf16):
    %yw = arith.extf %y : bf16 to f32
    %ww = arith.extf %w : bf16 to f32
    %s = arith.addf %x, %yw : f32
    %t = arith.addf %s, %ww : f32
    %h = arith.truncf %t : f32 to bf16
    linalg.yield %h : bf16
  }} -> tensor<37x50xbf16>
  return %r : tensor<37x50xbf16>
}}
func.func @empty_k(%a: tensor<4x0xf32>, %b: tensor<0x3xf32>) -> tensor<4x3xf32> {C_IFACE} {{
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>
  %r = linalg.matmul ins(%a, %b : tensor<4x0xf32>, tensor<0x3xf32>)
                     outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}}
"""


def matmul_then(name, inputs, maps, args, body):
    """@name: the 37x40 @ 40x50 product (zero init) of %a and %b, then an
    elementwise op of the product %p and `inputs` (`maps` their indexing
    maps, `args` the body's block arguments) with `body`."""
    types = {"%bias": "tensor<50xf32>", "%res": "tensor<37x50xf32>", "%p": "tensor<37x50xf32>"}
    params = "".join(f", {v}: {types[v]}" for v in inputs if v != "%p")
    return f"""
func.func @{name}(%a: tensor<37x40xf32>, %b: tensor<40x50xf32>{params})
    -> tensor<37x50xf32> {C_IFACE} {{
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x50xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<37x50xf32>) -> tensor<37x50xf32>
  %p = linalg.matmul ins(%a, %b : tensor<37x40xf32>, tensor<40x50xf32>)
                     outs(%f : tensor<37x50xf32>) -> tensor<37x50xf32>
  %r = linalg.generic {{indexing_maps = [{", ".join(maps)}, #id],
                       iterator_types = ["parallel", "parallel"]}}
      ins({", ".join(inputs)} : {", ".join(types[v] for v in inputs)})
      outs(%e : tensor<37x50xf32>) {{
  ^bb0({", ".join(f"{a}: f32" for a in args)}, %o: f32):
{body}
  }} -> tensor<37x50xf32>
  return %r : tensor<37x50xf32>
}}
"""


# A bias and a residual added (the epilogue), a bias added first in the
# block (the epilogue), a product scaled by the bias (a kernel).
FUNCTIONS += matmul_then("bias_residual", ["%p", "%bias", "%res"], ["#id", "#col", "#id"],
                         ["%x", "%y", "%w"], """    %s = arith.addf %x, %y : f32
    %t = arith.addf %w, %s : f32
    linalg.yield %t : f32""")
FUNCTIONS += matmul_then("bias_only", ["%bias", "%p"], ["#col", "#id"], ["%y", "%x"],
                         """    %s = arith.addf %y, %x : f32
    linalg.yield %s : f32""")
FUNCTIONS += matmul_then("scaled_not_fused", ["%p", "%bias"], ["#id", "#col"], ["%x", "%y"],
                         """    %s = arith.mulf %x, %y : f32
    linalg.yield %s : f32""")

# Runs `_mlir_ciface_<name>` on device copies of the .npy inputs and saves
# the result (copied back to the host) as <out>.npy.
RUN_SCRIPT = """
import ctypes, sys
import numpy as np
import cuda_runtime_client as client
from un_mlir import memref
rt = client.load(sys.argv[1])
lib = ctypes.CDLL(sys.argv[2])
name, out, inputs = sys.argv[3], sys.argv[4], sys.argv[5:]
arrays = [np.load(p) for p in inputs]
result = memref._descriptor_type(arrays[0].ndim)()
getattr(lib, "_mlir_ciface_" + name)(ctypes.byref(result),
                                     *[ctypes.byref(client.device(rt, a)) for a in arrays])
dtype = {"batch_f16": np.float16, "bf16_linear": np.uint16}.get(name, np.float32)
np.save(out, client.host(rt, result, dtype))
"""


@pytest.fixture(scope="module")
def fake_cublaslt(tmp_path_factory):
    return build_fake_cublaslt(tmp_path_factory.mktemp("cublaslt"))


@pytest.fixture(scope="module")
def libraries(tmp_path_factory):
    from un_mlir import aot
    out = tmp_path_factory.mktemp("matmuls")
    return {
        tf32: aot.compile_shared_library(
            FUNCTIONS, out / f"matmuls{int(tf32)}.so",
            pipeline=[f"un-cuda-pipeline{{matmul-library=cublaslt tf32={str(tf32).lower()}}}"])
        for tf32 in (False, True)
    }


def run(tmp_path, fake_cublaslt, library, name, *inputs, env_update=None):
    paths = []
    for i, array in enumerate(inputs):
        paths.append(tmp_path / f"{name}.in{i}.npy")
        np.save(paths[-1], array)
    log = tmp_path / "cublaslt.log"
    env = dict(os.environ, LD_LIBRARY_PATH=FAKECUDA, FAKECUDA_STRICT="1",
               UN_CUBLASLT_LIBRARY=str(fake_cublaslt), FAKE_CUBLASLT_LOG=str(log),
               PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT / "test" / "python"),
                                           os.environ.get("PYTHONPATH", "")]))
    env.update(env_update or {})
    out = tmp_path / f"{name}.out.npy"
    proc = subprocess.run([sys.executable, "-c", RUN_SCRIPT, str(RUNTIME), str(library), name,
                           str(out), *map(str, paths)],
                          capture_output=True, text=True, timeout=300, env=env)
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return proc, (np.load(out) if proc.returncode == 0 else None), calls


def bf16(array):
    """`array` rounded to bfloat16 (as uint16 bits, and as f32 values)."""
    bits = np.ascontiguousarray(array, np.float32).view(np.uint32)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    return rounded, (rounded.astype(np.uint32) << 16).view(np.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_product_with_zero_init_is_beta_0(tmp_path, fake_cublaslt, libraries, rng):
    a = rng.standard_normal((37, 40), dtype=np.float32)
    b = rng.standard_normal((40, 50), dtype=np.float32)
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[False], "zero_init", a, b)
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(got, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    # Column-major C^T [50 x 37] = B^T [50 x 40] A^T [40 x 37]; f32, COMPUTE_32F (68).
    assert calls == ["matmul A 50x40 B 40x37 D 50x37 batch 1 types 0 0 compute 68 beta 0"]


def test_tf32_is_the_compute_type_asked_for(tmp_path, fake_cublaslt, libraries, rng):
    a = rng.standard_normal((37, 40), dtype=np.float32)
    b = rng.standard_normal((40, 50), dtype=np.float32)
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[True], "zero_init", a, b)
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(got, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    assert calls == ["matmul A 50x40 B 40x37 D 50x37 batch 1 types 0 0 compute 77 beta 0"]


@pytest.mark.parametrize("m, n", [(13, 7), (1, 33)])
def test_dynamic_shapes_accumulate_into_the_init(tmp_path, fake_cublaslt, libraries, rng, m, n):
    a = rng.standard_normal((m, 24), dtype=np.float32)
    b = rng.standard_normal((24, n), dtype=np.float32)
    c = rng.standard_normal((m, n), dtype=np.float32)
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[False], "dynamic_accumulate",
                           a, b, c)
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(got, c + a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    assert calls == [f"matmul A {n}x24 B 24x{m} D {n}x{m} batch 1 types 0 0 compute 68 beta 1"]


def test_dynamic_shapes_that_disagree_are_an_error(tmp_path, fake_cublaslt, libraries, rng):
    a = rng.standard_normal((5, 24), dtype=np.float32)
    b = rng.standard_normal((24, 6), dtype=np.float32)
    c = rng.standard_normal((4, 6), dtype=np.float32)  # M is 5
    proc, _, calls = run(tmp_path, fake_cublaslt, libraries[False], "dynamic_accumulate", a, b, c)
    assert proc.returncode != 0
    # cf.assert prints its message to stdout, then aborts.
    assert "matmul operands disagree on M" in proc.stdout + proc.stderr, proc.stderr[-3000:]
    assert calls == []


def test_bf16_batches_accumulate_in_f32(tmp_path, fake_cublaslt, libraries, rng):
    a_bits, a = bf16(rng.standard_normal((3, 9, 16)))
    b_bits, b = bf16(rng.standard_normal((3, 16, 11)))
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[False], "batch_bf16", a_bits,
                           b_bits)
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(got, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    # CUDA_R_16BF = 14, CUDA_R_32F = 0.
    assert calls == ["matmul A 11x16 B 16x9 D 11x9 batch 3 types 14 0 compute 68 beta 0"]


def test_f16_batches_with_an_f16_result(tmp_path, fake_cublaslt, libraries, rng):
    a = rng.standard_normal((2, 5, 8)).astype(np.float16)
    b = rng.standard_normal((2, 8, 6)).astype(np.float16)
    c = rng.standard_normal((2, 5, 6)).astype(np.float16)
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[False], "batch_f16", a, b, c)
    assert proc.returncode == 0, proc.stderr[-3000:]
    want = c.astype(np.float64) + a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=2e-3, atol=2e-3)
    # CUDA_R_16F = 2.
    assert calls == ["matmul A 6x8 B 8x5 D 6x5 batch 2 types 2 2 compute 68 beta 1"]


def test_bias_and_residual_adds_are_the_epilogue(tmp_path, fake_cublaslt, libraries, rng):
    a = rng.standard_normal((37, 40), dtype=np.float32)
    b = rng.standard_normal((40, 50), dtype=np.float32)
    bias = rng.standard_normal(50, dtype=np.float32)
    res = rng.standard_normal((37, 50), dtype=np.float32)
    product = a.astype(np.float64) @ b
    # One call: C = the residual (beta 1), cuBLASLt's BIAS epilogue.
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[False], "bias_residual",
                           a, b, bias, res)
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(got, product + bias + res, rtol=1e-5, atol=1e-5)
    assert calls == ["matmul A 50x40 B 40x37 D 50x37 batch 1 types 0 0 compute 68 beta 1 bias"]
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[False], "bias_only", a, b, bias)
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(got, product + bias, rtol=1e-5, atol=1e-5)
    assert calls == ["matmul A 50x40 B 40x37 D 50x37 batch 1 types 0 0 compute 68 beta 0 bias"]


def test_a_bf16_linear_is_one_call_with_a_bf16_result(tmp_path, fake_cublaslt, libraries, rng):
    """bf16 inputs, f32 accumulation, bias and residual widened and the sum
    rounded to bf16: D, C and the bias in bf16, one call, no kernel."""
    a_bits, a = bf16(rng.standard_normal((37, 40)))
    b_bits, b = bf16(rng.standard_normal((40, 50)))
    bias_bits, bias = bf16(rng.standard_normal(50))
    res_bits, res = bf16(rng.standard_normal((37, 50)))
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[False], "bf16_linear",
                           a_bits, b_bits, bias_bits, res_bits)
    assert proc.returncode == 0, proc.stderr[-3000:]
    want = a.astype(np.float64) @ b + bias + res
    got = (got.astype(np.uint32) << 16).view(np.float32)
    # One rounding to bf16 (8-bit mantissa): half an ulp, 2^-9 relative.
    np.testing.assert_allclose(got, want, rtol=2.0 ** -8, atol=1e-6)
    assert calls == ["matmul A 50x40 B 40x37 D 50x37 batch 1 types 14 14 compute 68 beta 1 bias"]


def test_other_elementwise_ops_stay_kernels(tmp_path, fake_cublaslt, libraries, rng):
    a = rng.standard_normal((37, 40), dtype=np.float32)
    b = rng.standard_normal((40, 50), dtype=np.float32)
    bias = rng.standard_normal(50, dtype=np.float32)
    proc, _, calls = run(tmp_path, fake_cublaslt, libraries[False], "scaled_not_fused",
                         a, b, bias)
    # The multiply is a kernel, which the fake driver does not run: only the
    # call is checked.
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert calls == ["matmul A 50x40 B 40x37 D 50x37 batch 1 types 0 0 compute 68 beta 0"]


def test_an_empty_sum_is_zero_without_the_library(tmp_path, fake_cublaslt, libraries):
    proc, got, calls = run(tmp_path, fake_cublaslt, libraries[False], "empty_k",
                           np.zeros((4, 0), np.float32), np.zeros((0, 3), np.float32),
                           env_update={"UN_CUBLASLT_LIBRARY": str(tmp_path / "none.so")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_array_equal(got, np.zeros((4, 3), np.float32))
    assert calls == []


def test_a_missing_library_is_a_clear_error(tmp_path, fake_cublaslt, libraries, rng):
    a = rng.standard_normal((37, 40), dtype=np.float32)
    b = rng.standard_normal((40, 50), dtype=np.float32)
    proc, _, _ = run(tmp_path, fake_cublaslt, libraries[False], "zero_init", a, b,
                     env_update={"UN_CUBLASLT_LIBRARY": str(tmp_path / "nowhere.so")})
    assert proc.returncode != 0
    assert "matmul-library=cublaslt need cuBLASLt: could not load" in proc.stderr, \
        proc.stderr[-3000:]


# Calls the runtime's un_cuda_matmul_f32 on device buffers whose data start
# `offset` bytes past an allocation (4: not 256-byte aligned, which
# cuBLASLt's algorithms may assume unless told otherwise) and prints the
# product.
MISALIGNED_SCRIPT = """
import ctypes, json, sys
import numpy as np
import cuda_runtime_client as client
rt = client.load(sys.argv[1])
rt.un_cuda_matmul_f32.argtypes = [ctypes.c_ssize_t] * 9
m, k, n, offset = 3, 5, 4, int(sys.argv[2])
a = np.arange(m * k, dtype=np.float32).reshape(m, k)
b = np.ones((k, n), np.float32)
def device(array):
    ptr = rt.mgpuMemAlloc(array.nbytes + offset, None, False) + offset
    rt.mgpuMemcpy(ptr, array.ctypes.data, array.nbytes, None)
    return ptr
pa, pb, pc = device(a), device(b), device(np.zeros((m, n), np.float32))
rt.un_cuda_matmul_f32(pa, pb, 0, pc, 0, 1, m, n, k)
c = np.empty((m, n), np.float32)
rt.mgpuMemcpy(c.ctypes.data, pc, c.nbytes, None)
print(json.dumps(c.tolist()))
"""


@pytest.mark.parametrize("offset", [0, 4, 64])
def test_pointers_of_any_alignment(tmp_path, fake_cublaslt, offset):
    env = dict(os.environ, LD_LIBRARY_PATH=FAKECUDA, FAKECUDA_STRICT="1",
               UN_CUBLASLT_LIBRARY=str(fake_cublaslt),
               PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT / "test" / "python"),
                                           os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", MISALIGNED_SCRIPT, str(RUNTIME), str(offset)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a = np.arange(15, dtype=np.float64).reshape(3, 5)
    np.testing.assert_array_equal(np.array(json.loads(proc.stdout)), a @ np.ones((5, 4)))
