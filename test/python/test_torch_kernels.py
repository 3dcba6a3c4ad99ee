"""UnifiedNorm on un-mlir's compiled kernels (un_mlir.torch.kernels): the
torch.library ops, one kernel for every token count, the disk cache,
torch.compile without graph breaks, and the choice between compiled and
eager kernels. Numbers against the spec over whole sequences are in
test_torch_module.py (parametrized over both kernel choices)."""
import os
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, UN_OPT
from un_mlir import aot
from un_mlir.torch import UnifiedNorm, kernels

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-mlir is not built")

HP = dict(window=3, window_bwd=2, warmup_iters=2, outlier_filtration=True, r_max=2.0,
          r_warmup=3)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh kernel cache (on disk and in memory) for one test."""
    monkeypatch.setenv("UN_MLIR_CACHE_DIR", str(tmp_path / "kernels"))
    monkeypatch.setattr(kernels, "_LIBRARIES", {})
    monkeypatch.setattr(kernels, "_KERNELS", {})
    return tmp_path / "kernels"


def pair(C=16, dtype=torch.float32, **hp):
    """Two modules with equal parameters: compiled and eager kernels."""
    torch.manual_seed(0)
    a = UnifiedNorm(C, kernels="compiled", **{**HP, **hp}).to(dtype)
    with torch.no_grad():
        a.weight.copy_(1 + 0.1 * torch.randn(C))
        a.bias.copy_(0.1 * torch.randn(C))
    b = UnifiedNorm(C, kernels="eager", **{**HP, **hp}).to(dtype)
    b.load_state_dict(a.state_dict())
    return a, b


def step(m, x, gy, mask=None):
    xt = x.clone().requires_grad_()
    y = m(xt, mask)
    y.backward(gy)
    out = (y.detach(), xt.grad, m.weight.grad.clone(), m.bias.grad.clone())
    m.weight.grad = m.bias.grad = None
    return out


def assert_same(a, b, rtol=1e-5, atol=1e-6):
    for u, v in zip(a, b):
        torch.testing.assert_close(u.float(), v.float(), rtol=rtol, atol=atol)


def test_ops_are_registered_and_pass_opcheck(cache):
    """Schemas, fake implementations and declared mutations agree with the
    implementations (the training ops are differentiated by TrainStep, an
    autograd.Function around them; the inference op has an autograd
    formula)."""
    C = 8
    m = UnifiedNorm(C, kernels="compiled", **HP)
    x = torch.randn(3, 5, C)
    weight, bias = m.weight.detach(), m.bias.detach()
    args = (x, weight, bias, m.running_var.clone(), m.win_x2.clone(), m.t.clone(),
            m.skips.clone(), torch.rand(3, 5) < 0.2, 2, 1e-5, 0.9, 2, True, 2.0, 3)
    torch.library.opcheck(torch.ops.un_mlir.train_forward, args)
    y, var, r, skip, step_t = torch.ops.un_mlir.train_forward(*args)
    torch.library.opcheck(
        torch.ops.un_mlir.train_backward,
        (torch.randn_like(y), x, var, r, skip, step_t, weight, m.ema_gz.clone(),
         m.win_gz.clone(), 3, 1e-5, 0.9, 2, True, 2.0, 3, True))
    xi = torch.randn(4, C, requires_grad=True)
    torch.library.opcheck(torch.ops.un_mlir.unified_norm_infer,
                          (xi, m.weight, m.bias, m.running_var + 0.5, 1e-5))


def test_every_token_count_shares_one_kernel(cache):
    """Activations are compiled as [?, C]: batches and token counts of any
    size run the same library; the state threads through them."""
    a, b = pair()
    for i, shape in enumerate([(2, 5, 16), (7, 16), (1, 1, 16), (3, 2, 4, 16), (0, 16)]):
        if shape[0] == 0:  # no token: the spec's quadratic mean is NaN
            continue
        x = (1 + i) * torch.randn(shape)
        gy = torch.randn(shape)
        assert_same(step(a, x, gy), step(b, x, gy))
    for k, v in a.state_dict().items():
        torch.testing.assert_close(v, b.state_dict()[k], rtol=1e-5, atol=1e-6, msg=k)
    assert len(list(cache.glob("*.so"))) == 1


def test_masks_window_one_and_no_affine(cache):
    a, b = pair(window=1, window_bwd=1, outlier_filtration=False)
    for i in range(4):
        x, gy = torch.randn(2, 6, 16) * (1 + i), torch.randn(2, 6, 16)
        mask = torch.rand(2, 6) < 0.4
        assert_same(step(a, x, gy, mask), step(b, x, gy, mask))
        assert a.last_skip and b.last_skip
    plain = UnifiedNorm(16, elementwise_affine=False, kernels="compiled", **HP)
    ref = UnifiedNorm(16, elementwise_affine=False, kernels="eager", **HP)
    for i in range(5):
        x = torch.randn(3, 16) * (1 + i)
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        gy = torch.randn(3, 16)
        plain(xa).backward(gy)
        ref(xb).backward(gy)
        torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-5, atol=1e-6)
    no_bias = UnifiedNorm(16, bias=False, kernels="compiled")
    assert no_bias(torch.randn(4, 16)).shape == (4, 16)


def test_non_contiguous_input_and_gradient(cache):
    a, b = pair()
    x = torch.randn(16, 6).t()  # [6, 16], not contiguous
    gy = torch.randn(16, 6).t()
    assert not x.is_contiguous()
    assert_same(step(a, x, gy), step(b, x, gy))


@pytest.mark.parametrize("dtype,tol", [(torch.bfloat16, 2e-2), (torch.float16, 2e-3)])
def test_low_precision_against_eager(cache, dtype, tol):
    a, b = pair(dtype=dtype)
    for i in range(6):
        x = (torch.randn(4, 3, 16) * (1 + 0.3 * i)).to(dtype)
        gy = torch.randn(4, 3, 16).to(dtype)
        ya = step(a, x, gy)
        assert ya[0].dtype == dtype and ya[1].dtype == dtype and ya[2].dtype == dtype
        assert_same(ya, step(b, x, gy), rtol=tol, atol=tol)


def test_eval_and_its_gradient(cache):
    a, b = pair()
    for m in (a, b):
        with torch.no_grad():
            m.running_var.uniform_(0.5, 2)
        m.eval()
    b.load_state_dict(a.state_dict())
    x = torch.randn(5, 16)
    got, want = step(a, x, torch.ones(5, 16)), step(b, x, torch.ones(5, 16))
    assert_same(got, want)
    assert int(a.t) == 0  # eval leaves the state alone


def test_torch_compile_has_no_graph_break(cache):
    """Training and eval under torch.compile(fullgraph=True) (which fails on
    any graph break) give the same numbers and state as eager calls."""
    a, _ = pair()
    c, _ = pair()
    compiled = torch.compile(c, fullgraph=True)
    for i in range(5):
        x, gy = torch.randn(2, 5, 16) * (1 + i), torch.randn(2, 5, 16)
        mask = torch.rand(2, 5) < 0.3
        assert_same(step(a, x, gy, mask), step(compiled, x, gy, mask))
    for k, v in a.state_dict().items():
        torch.testing.assert_close(v, c.state_dict()[k], rtol=1e-6, atol=0, msg=k)
    explanation = torch._dynamo.explain(UnifiedNorm(16, kernels="compiled"))(torch.randn(3, 16))
    assert explanation.graph_break_count == 0


def test_kernels_are_cached_on_disk(cache, monkeypatch):
    a, _ = pair()
    step(a, torch.randn(3, 16), torch.randn(3, 16))
    files = sorted(cache.glob("*.so"))
    assert len(files) == 1
    # A new process (here: empty in-memory caches) loads the file; it does
    # not compile again.
    monkeypatch.setattr(kernels, "_LIBRARIES", {})
    monkeypatch.setattr(kernels, "_KERNELS", {})

    def no_compile(*args, **kwargs):
        raise AssertionError("compiled again")
    monkeypatch.setattr(aot, "compile_shared_library", no_compile)
    a2, b2 = pair()
    x, gy = torch.randn(3, 16), torch.randn(3, 16)
    assert_same(step(a2, x, gy), step(b2, x, gy))
    assert sorted(cache.glob("*.so")) == files
    # Other hyper-parameters are another kernel.
    monkeypatch.undo()
    monkeypatch.setenv("UN_MLIR_CACHE_DIR", str(cache))
    step(UnifiedNorm(16, kernels="compiled", window=5), torch.randn(3, 16), torch.randn(3, 16))
    assert len(list(cache.glob("*.so"))) == 2


def test_kernel_cache_survives_concurrent_processes(tmp_path):
    """Two processes compiling the same kernel at once both succeed (each
    writes a temporary file and renames it)."""
    code = ("import torch; from un_mlir.torch import UnifiedNorm; "
            "m = UnifiedNorm(24, kernels='compiled', window=7); "
            "m(torch.randn(3, 24)).sum().backward(); print('ok')")
    env = dict(os.environ, UN_MLIR_CACHE_DIR=str(tmp_path),
               PYTHONPATH=str(ROOT / "python"))
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
        assert out.strip() == b"ok"
    assert len(list(tmp_path.glob("*.so"))) == 1
    assert not list(tmp_path.glob("tmp*"))


def test_choice_of_kernels(cache):
    x64 = torch.randn(3, 8, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="float64"):
        UnifiedNorm(8, kernels="compiled").double()(x64)
    assert UnifiedNorm(8).double()(x64).dtype == torch.float64  # auto: eager
    mixed = UnifiedNorm(8, kernels="compiled")
    with pytest.raises(RuntimeError, match="weight is torch.float32 and the input "
                                           "torch.bfloat16"):
        mixed(torch.randn(3, 8, dtype=torch.bfloat16))
    with pytest.raises(ValueError, match="kernels must be one of"):
        UnifiedNorm(8, kernels="fast")
    assert "kernels='compiled'" in repr(UnifiedNorm(8, kernels="compiled"))
    assert UnifiedNorm(8)._compiled_kernels(torch.randn(2, 8))  # auto: compiled on CPU f32
    assert not UnifiedNorm(8, kernels="eager")._compiled_kernels(torch.randn(2, 8))


def test_state_must_be_contiguous_f32(cache):
    m = UnifiedNorm(8, kernels="compiled", window=2)
    m.win_x2 = torch.zeros(8, 2).t()  # [2, 8], not contiguous
    with pytest.raises(ValueError, match="contiguous"):
        m(torch.randn(3, 8))


def test_inference_op_reads_any_running_var_dtype(cache):
    # The kernel reads f32 statistics: another dtype is converted, not
    # misread; a wrong size is refused.
    x, g, b = torch.randn(3, 8), torch.rand(8) + 0.5, torch.randn(8)
    rv = torch.rand(8) + 0.5
    want = torch.ops.un_mlir.unified_norm_infer(x, g, b, rv, 1e-5)
    for other in (rv.half(), rv.double()):
        got = torch.ops.un_mlir.unified_norm_infer(x, g, b, other, 1e-5)
        torch.testing.assert_close(got, want, rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match=r"running_var has shape \(9,\), expected \(8,\)"):
        kernels.infer(x, g, b, torch.ones(9), 1e-5)


def test_kernels_that_cannot_be_built(tmp_path, monkeypatch):
    """A cache that cannot be written (or a tool that fails): "auto" warns
    and trains on the PyTorch implementation, "compiled" raises saying why."""
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("UN_MLIR_CACHE_DIR", str(blocked / "kernels"))
    monkeypatch.setattr(kernels, "_LIBRARIES", {})
    monkeypatch.setattr(kernels, "_KERNELS", {})
    monkeypatch.setattr(kernels, "_FAILED", {})
    auto = UnifiedNorm(8, window=3)
    eager = UnifiedNorm(8, window=3, kernels="eager")
    x, gy = torch.randn(4, 8), torch.randn(4, 8)
    with pytest.warns(RuntimeWarning, match="could not be built"):
        got = step(auto, x, gy)
    assert_same(got, step(eager, x, gy))
    with pytest.raises(RuntimeError, match="kernels could not be built"):
        UnifiedNorm(8, window=3, kernels="compiled")(x)
