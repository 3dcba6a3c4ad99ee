"""The native module: parsing with diagnostics, pass pipelines, the CPU JIT
with numpy in and out (dtypes, dynamic shapes, several results, memref
arguments written in place), argument checking, GPU object extraction."""
import numpy as np
import pytest

from conftest import require_native
from un_mlir import reference, train_step

compiler = require_native()

INFER = """
func.func @infer(%x: tensor<?x?x8xf32>, %gamma: tensor<8xf32>, %beta: tensor<8xf32>,
                 %rv: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %y = un.infer %x, %gamma, %beta, %rv {eps = 1.0e-3 : f32}
    : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}
"""


def test_parse_error_carries_location_and_message():
    text = ("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
            "  %y = arith.addf %x, %z : tensor<4xf32>\n"
            "  return %y : tensor<4xf32>\n}\n")
    with pytest.raises(compiler.MLIRError) as info:
        compiler.parse(text, "bad.mlir")
    diags = info.value.diagnostics
    assert diags and diags[0].severity == "error"
    assert diags[0].location == "bad.mlir:2:23"
    assert "undeclared SSA value" in diags[0].message
    assert "bad.mlir:2:23: error:" in str(info.value)


def test_un_verifier_diagnostic_is_raised():
    text = INFER.replace("eps = 1.0e-3", "eps = -1.0")
    with pytest.raises(compiler.MLIRError) as info:
        compiler.parse(text, "eps.mlir")
    d = info.value.diagnostics[0]
    assert d.location.startswith("eps.mlir:")
    assert "eps" in d.message


def test_module_round_trip_and_pipeline():
    module = compiler.parse(INFER)
    assert "un.infer" in str(module)
    module.run_pipeline("un-to-linalg-pipeline")
    text = str(module)
    assert "un." not in text and "linalg.generic" in text
    lowered = compiler.run_pipeline(INFER, "--un-cpu-pipeline")
    assert "llvm.func @infer" in lowered
    wrapped = compiler.run_pipeline(INFER, "builtin.module(un-decompose,canonicalize)")
    assert "un.normalize" in wrapped and "un.infer" not in wrapped


def test_invalid_pipeline_names_it():
    with pytest.raises(compiler.MLIRError) as info:
        compiler.run_pipeline(INFER, "no-such-pass")
    assert "no-such-pass" in str(info.value)
    assert compiler.is_registered("un-cpu-pipeline")
    assert not compiler.is_registered("no-such-pass")


def test_pass_failure_is_raised_with_diagnostics():
    # un ops have no bufferization: one-shot-bufferize fails on them.
    with pytest.raises(compiler.MLIRError) as info:
        compiler.run_pipeline(INFER, "one-shot-bufferize")
    assert "one-shot-bufferize" in info.value.summary
    first = info.value.diagnostics[0]
    assert first.severity == "error" and "not bufferized" in first.message
    assert first.location == "<string>:4:8"  # the un.infer op
    assert any("un.infer" in d.message for d in info.value.diagnostics[1:])


@pytest.fixture(scope="module")
def infer_exe():
    return compiler.compile(INFER)


@pytest.mark.parametrize("shape", [(2, 3, 8), (1, 1, 8), (4, 0, 8)])
def test_jit_dynamic_shapes_match_reference(infer_exe, shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(np.float32)
    gamma = (1 + 0.1 * rng.standard_normal(8)).astype(np.float32)
    beta = rng.standard_normal(8).astype(np.float32)
    rv = rng.uniform(0.5, 2, 8).astype(np.float32)
    y = infer_exe.infer(x, gamma, beta, rv)
    assert y.shape == shape and y.dtype == np.float32
    np.testing.assert_allclose(y, reference.infer(x, gamma, beta, rv, eps=1e-3),
                               rtol=1e-6, atol=1e-6)


def test_jit_input_not_modified_and_noncontiguous_input(infer_exe):
    x = np.arange(2 * 8 * 3, dtype=np.float32).reshape(2, 8, 3).transpose(0, 2, 1)
    before = x.copy()
    ones, zeros = np.ones(8, np.float32), np.zeros(8, np.float32)
    y = infer_exe.infer(x, ones, zeros, ones)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-6)


LINEAR = """
func.func @linear(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %gamma: tensor<4xf32>,
                  %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x3xf32> {
  %y = un.infer %x, %gamma, %beta, %rv
    : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>)
    outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}
"""


def test_jit_weights_as_arguments_through_inference_pipeline():
    """The JIT marks tensor arguments `bufferization.writable = false`;
    hoisting the weight preparation of folding into new functions keeps those
    attributes with their arguments (it once left them out of step and
    crashed)."""
    rng = np.random.default_rng(3)
    args = [rng.standard_normal(s).astype(np.float32) for s in [(5, 4), (4, 3), (4,), (4,)]]
    args.append(rng.uniform(0.5, 2, 4).astype(np.float32))
    want = compiler.compile(LINEAR).linear(*args)
    got = compiler.compile(LINEAR, pipeline="un-inference-pipeline,un-cpu-pipeline").linear(*args)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_jit_argument_errors(infer_exe):
    x = np.zeros((2, 3, 8), np.float32)
    v = np.ones(8, np.float32)
    with pytest.raises(TypeError, match="takes 4 arguments, got 3"):
        infer_exe.infer(x, v, v)
    with pytest.raises(TypeError, match="argument 0 of @infer .*float32, got float64"):
        infer_exe.infer(x.astype(np.float64), v, v, v)
    with pytest.raises(ValueError, match=r"expected shape \[\?, \?, 8\], got \[2, 3, 4\]"):
        infer_exe.infer(np.zeros((2, 3, 4), np.float32), v, v, v)
    with pytest.raises(ValueError, match="expected rank 1"):
        infer_exe.infer(x, np.ones((1, 8), np.float32), v, v)
    with pytest.raises(TypeError):
        infer_exe.infer(x, "not an array", v, v)
    # Another byte order would be read as other numbers.
    with pytest.raises(TypeError, match="argument 0 of @infer .*byte order"):
        infer_exe.infer(x.astype(x.dtype.newbyteorder(">")), v, v, v)
    with pytest.raises(TypeError, match="argument 1 of @infer .*byte order"):
        infer_exe.infer(x, v.astype(v.dtype.newbyteorder(">")), v, v)
    with pytest.raises(KeyError, match="no public function @nope"):
        infer_exe.call("nope")


SCALARS = """
func.func @mixed(%a: tensor<?xi64>, %m: tensor<?xi1>, %k: i64, %f: f32, %b: i1)
    -> (tensor<?xi64>, tensor<?xi1>, i64, f32, i1) {
  %s = arith.addi %a, %a : tensor<?xi64>
  %n = arith.xori %m, %m : tensor<?xi1>
  %true = arith.constant true
  %nn = arith.xori %m, %n : tensor<?xi1>
  %k2 = arith.muli %k, %k : i64
  %f2 = arith.addf %f, %f : f32
  %nb = arith.xori %b, %true : i1
  return %s, %nn, %k2, %f2, %nb : tensor<?xi64>, tensor<?xi1>, i64, f32, i1
}
func.func @halves(%x: tensor<3xf16>, %y: tensor<3xbf16>) -> (tensor<3xf16>, tensor<3xbf16>) {
  %a = arith.addf %x, %x : tensor<3xf16>
  %b = arith.mulf %y, %y : tensor<3xbf16>
  return %a, %b : tensor<3xf16>, tensor<3xbf16>
}
func.func @constant() -> (tensor<2xf32>, tensor<2xf32>) {
  %c = arith.constant dense<[1.5, -2.0]> : tensor<2xf32>
  return %c, %c : tensor<2xf32>, tensor<2xf32>
}
func.func @identity(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
"""


def test_jit_integer_bool_scalar_and_half_types():
    exe = compiler.compile(SCALARS)
    a = np.array([1, -7, 1 << 40], np.int64)
    m = np.array([True, False, True])
    s, nn, k2, f2, nb = exe.mixed(a, m, 12, 1.25, True)
    np.testing.assert_array_equal(s, 2 * a)
    np.testing.assert_array_equal(nn, m)
    assert nn.dtype == np.bool_
    assert (k2, f2, nb) == (144, 2.5, False)
    with pytest.raises(TypeError, match="expected an int"):
        exe.mixed(a, m, 1.5, 1.0, True)

    x = np.array([0.5, 1.5, -3], np.float16)
    y16 = np.array([1.5, -2, 3], np.float32)
    try:
        import ml_dtypes
        y = y16.astype(ml_dtypes.bfloat16)
    except ImportError:
        y = (y16.view(np.uint32) >> 16).astype(np.uint16)
    a16, b16 = exe.halves(x, y)
    np.testing.assert_array_equal(a16, 2 * x)
    np.testing.assert_array_equal(np.asarray(b16, np.float32) if b16.dtype != np.uint16
                                  else (b16.astype(np.uint32) << 16).view(np.float32),
                                  y16 * y16)
    for _ in range(3):  # returned constants and arguments are owned copies
        c1, c2 = exe.constant()
        np.testing.assert_array_equal(c1, [1.5, -2.0])
        np.testing.assert_array_equal(c2, [1.5, -2.0])
        v = np.array([3.0, 4.0], np.float32)
        np.testing.assert_array_equal(exe.identity(v), v)


def test_jit_memref_arguments_written_in_place():
    """The destination-passing training step (memref arguments) through the
    JIT matches the spec reference: outputs land in the caller's arrays."""
    shape, C = (3, 4, 8), 8
    hp = dict(warmup_iters=2, outlier_filtration=True, r_max=2.0, r_warmup=3)
    exe = compiler.compile(train_step.train_step_mlir(shape, 3, 2, "f32", **hp))
    rng = np.random.default_rng(3)
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(C)).astype(np.float32)
    xs = [(s * rng.standard_normal(shape)).astype(np.float32) for s in (1, 1.1, 0.9, 30, 1)]
    gys = [rng.standard_normal(shape).astype(np.float32) for _ in xs]
    expected = reference.run_sequence(xs, gys, gamma, beta, reference.UNState.fresh(C, 3, 2), **hp)
    st = reference.UNState.fresh(C, 3, 2)
    f32 = np.float32
    t_m, skips = np.zeros((), np.int64), np.zeros((), np.int64)  # updated in place
    for t, (x, gy, want) in enumerate(zip(xs, gys, expected), start=1):
        y, z = np.empty(shape, f32), np.empty(shape, f32)
        var, r = np.empty(C, f32), np.empty(C, f32)
        skip, step = np.zeros((), np.bool_), np.zeros((), np.int64)
        assert exe.un_forward(x, gamma, beta, st.running_var, st.win_x2, t_m, skips,
                              y, z, var, r, skip, step) is None
        assert int(t_m) == int(step) == t
        gx, gg, gb = np.empty(shape, f32), np.empty(C, f32), np.empty(C, f32)
        exe.un_backward(gy, z, var, r, skip, step, gamma, st.ema_gz, st.win_gz, gx, gg, gb)
        assert bool(skip) == want["skip"]
        assert int(skips) == want["state"].skips
        for name, got in (("y", y), ("gx", gx), ("ggamma", gg)):
            np.testing.assert_allclose(got, want[name], rtol=1e-5, atol=1e-5, err_msg=f"{name} t={t}")
        np.testing.assert_allclose(st.running_var, want["state"].running_var, rtol=1e-6)
        np.testing.assert_allclose(st.win_gz, want["state"].win_gz, rtol=1e-5, atol=1e-6)
    assert any(e["skip"] for e in expected[2:])
    with pytest.raises(ValueError, match="C-contiguous"):
        exe.un_forward(xs[0], gamma, beta, st.running_var, st.win_x2, t_m, skips,
                       np.empty(shape[::-1], f32).T, z, var, r, skip, step)


GPU_MODULE = """
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @square(%buf: memref<256xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %buf[%i] : memref<256xf32>
      %w = arith.mulf %v, %v : f32
      memref.store %w, %buf[%i] : memref<256xf32>
      gpu.return
    }
  }
}
"""
UPSTREAM_NVVM = ("nvvm-attach-target{chip=sm_90 features=+ptx80},"
                 "gpu.module(convert-gpu-to-nvvm),reconcile-unrealized-casts,"
                 "gpu-module-to-binary{format=isa}")


def test_ptx_extraction_with_an_upstream_pipeline():
    ptx = compiler.to_ptx(GPU_MODULE, pipeline=UPSTREAM_NVVM)
    assert list(ptx) == ["kernels"]
    assert ".target sm_90" in ptx["kernels"] and ".entry square" in ptx["kernels"]


@pytest.mark.skipif(not compiler.available() or not compiler.is_registered("un-cuda-pipeline"),
                    reason="un-cuda-pipeline is not registered in this build")
def test_un_cuda_pipeline_emits_ptx():
    text = """
func.func @infer(%x: tensor<64x384xf32>, %g: tensor<384xf32>, %b: tensor<384xf32>,
                 %rv: tensor<384xf32>) -> tensor<64x384xf32> {
  %y = un.infer %x, %g, %b, %rv
    : (tensor<64x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<64x384xf32>
  return %y : tensor<64x384xf32>
}"""
    ptx = compiler.to_ptx(text, chip="sm_90")
    assert ptx and all(".entry" in p for p in ptx.values())
