"""un_mlir.torch.UnifiedNorm against the numpy transcription of the spec
(un_mlir.reference) over multi-step training sequences, with the PyTorch
implementation (kernels="eager") and with un-mlir's compiled kernels
(kernels="compiled"), its backward against finite differences, state_dict
round trips, dtypes, and convert_layernorm."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from conftest import UN_OPT
from un_mlir import reference
from un_mlir.torch import UnifiedNorm, convert_layernorm

STATE = ("running_var", "ema_gz", "win_x2", "win_gz")
KERNELS = ["eager", pytest.param("compiled", marks=pytest.mark.skipif(
    not UN_OPT.exists(), reason="un-mlir is not built"))]


def make_module(C, gamma, beta, window=4, window_bwd=None, dtype=torch.float32,
                kernels="eager", **hp):
    m = UnifiedNorm(C, eps=hp.pop("eps", 1e-5), window=window, window_bwd=window_bwd,
                    kernels=kernels, **hp)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(gamma))
        m.bias.copy_(torch.from_numpy(beta))
    return m.to(dtype)


def run_module(m, xs, gys, masks=None, dtype=torch.float32):
    out = []
    for i, (x, gy) in enumerate(zip(xs, gys)):
        xt = torch.tensor(x, dtype=dtype, requires_grad=True)
        mask = None if masks is None else torch.from_numpy(masks[i])
        y = m(xt, mask)
        y.backward(torch.tensor(gy, dtype=dtype))
        step = dict(y=y.detach().float().numpy(), gx=xt.grad.float().numpy(),
                    ggamma=m.weight.grad.float().numpy().copy(),
                    gbeta=m.bias.grad.float().numpy().copy(), skip=m.last_skip,
                    t=int(m.t), skips=int(m.skips))
        step.update({k: getattr(m, k).numpy().copy() for k in STATE})
        m.weight.grad = m.bias.grad = None
        out.append(step)
    return out


def compare(got, want, rtol, atol, what=""):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        t = w["t"]
        assert g["t"] == t
        assert g["skip"] == w["skip"], f"skip at step {t} {what}"
        assert g["skips"] == w["state"].skips, f"skips at step {t} {what}"
        for k in ("y", "gx", "ggamma", "gbeta"):
            ref = np.asarray(w[k], np.float64)
            scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
            np.testing.assert_allclose(g[k], ref, rtol=rtol, atol=atol * scale,
                                       err_msg=f"{k} at step {t} {what}")
        for k in STATE:
            ref = np.asarray(getattr(w["state"], k), np.float64)
            np.testing.assert_allclose(g[k], ref, rtol=rtol, atol=atol * max(1.0, np.abs(ref).max()),
                                       err_msg=f"{k} at step {t} {what}")


def sequence(rng, shape, scales):
    xs = [(s * rng.standard_normal(shape)).astype(np.float32) for s in scales]
    gys = [rng.standard_normal(shape).astype(np.float32) for _ in scales]
    return xs, gys


CASES = {
    # warm-up then smoothing (t > Mf, t >= W), filtration on, an outlier batch
    "smoothing_outlier": dict(shape=(2, 5, 16), window=4, window_bwd=None,
                              scales=[1, 1.2, 0.9, 1.1, 1, 25.0, 1, 0.95, 1.05, 1],
                              hp=dict(warmup_iters=3, outlier_filtration=True, r_max=2.0,
                                      r_warmup=5), masks=False),
    # padding masks, different window lengths
    "masks": dict(shape=(3, 6, 8), window=3, window_bwd=2,
                  scales=[1, 2, 0.5, 1, 1.5, 1, 0.7, 1.2], masks=True,
                  hp=dict(warmup_iters=2, outlier_filtration=True, r_max=5.0, r_warmup=4)),
    # window 1: every step is skipped (var = psi, r = 1, mu = gz). Without
    # filtration: with one row am - gm is 0 up to exp/log rounding, so the
    # outlier test would compare rounding noise with s2 = 0.
    "window_one": dict(shape=(4, 8), window=1, window_bwd=1, scales=[1, 3, 0.2, 1, 5, 1],
                       hp=dict(warmup_iters=0, outlier_filtration=False, r_warmup=0),
                       masks=False),
    # r clamped to [1/r_max, r_max] after the r warm-up
    "r_clamp": dict(shape=(2, 4, 8), window=2, window_bwd=2,
                    scales=[1, 1, 1, 8, 8, 0.1, 0.1, 1, 10],
                    hp=dict(warmup_iters=1, outlier_filtration=False, r_max=1.5, r_warmup=2),
                    masks=False),
    # defaults (W = 4000: plain quadratic-mean normalization, r = 1)
    "defaults": dict(shape=(5, 12), window=4, window_bwd=None, scales=[1, 2, 3], hp={},
                     masks=False),
}


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_sequence_matches_reference(case, kernels):
    c = CASES[case]
    shape, C = c["shape"], c["shape"][-1]
    rng = np.random.default_rng(sorted(CASES).index(case))
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(C)).astype(np.float32)
    xs, gys = sequence(rng, shape, c["scales"])
    masks = None
    if c["masks"]:
        masks = [rng.random(shape[:-1]) < 0.3 for _ in xs]
        masks[1][...] = False
    wb = c["window_bwd"] or c["window"]
    want = reference.run_sequence(xs, gys, gamma, beta,
                                  reference.UNState.fresh(C, c["window"], wb), masks, **c["hp"])
    m = make_module(C, gamma, beta, c["window"], c["window_bwd"], kernels=kernels, **c["hp"])
    got = run_module(m, xs, gys, masks)
    compare(got, want, rtol=2e-5, atol=2e-6, what=f"{case} {kernels}")
    skips = [w["skip"] for w in want]
    if case == "smoothing_outlier":
        assert True in skips[4:] and False in skips[4:]
    if case == "window_one":
        assert all(skips)
    if case == "r_clamp":
        rs = np.concatenate([w["r"] for w in want])
        assert np.isclose(rs, 1.5).any() and np.isclose(rs, 1 / 1.5).any()


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("dtype,ref_dtype,tol", [(torch.float16, "f16", 2e-3),
                                                  (torch.bfloat16, "bf16", 2e-2)])
def test_low_precision_matches_reference(dtype, ref_dtype, tol, kernels):
    shape, C = (3, 4, 16), 16
    rng = np.random.default_rng(11)
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(C)).astype(np.float32)
    xs, gys = sequence(rng, shape, [1, 1.5, 0.8, 1, 1.2, 1])
    # round the inputs to the storage type so both sides see the same values
    xs = [torch.tensor(x).to(dtype).float().numpy() for x in xs]
    gys = [torch.tensor(g).to(dtype).float().numpy() for g in gys]
    gamma = torch.tensor(gamma).to(dtype).float().numpy()
    beta = torch.tensor(beta).to(dtype).float().numpy()
    hp = dict(warmup_iters=2, r_warmup=3, outlier_filtration=False)
    want = reference.run_sequence(xs, gys, gamma, beta, reference.UNState.fresh(C), dtype=ref_dtype,
                                  **hp)
    m = make_module(C, gamma, beta, dtype=dtype, kernels=kernels, **hp)
    assert m.weight.dtype == dtype and m.running_var.dtype == torch.float32
    got = run_module(m, xs, gys, dtype=dtype)
    compare(got, want, rtol=tol, atol=tol, what=str(dtype))


def test_backward_is_exact_gradient_with_window_one():
    """With a forward window of 1 every step is skipped (r = 1, mu = gz) and
    the spec's backward is the exact gradient of the forward: check it
    against finite differences in float64."""
    torch.manual_seed(0)
    m = UnifiedNorm(6, window=1, warmup_iters=0, r_warmup=0).double()
    with torch.no_grad():
        m.weight.uniform_(0.5, 1.5)
        m.bias.uniform_(-0.5, 0.5)
    x = torch.randn(3, 4, 6, dtype=torch.float64, requires_grad=True)
    w, b = m.weight, m.bias
    assert m.running_var.dtype == torch.float64

    assert torch.autograd.gradcheck(lambda x, w, b: m(x), (x, w, b), eps=1e-6, atol=1e-7,
                                    rtol=1e-5)
    assert m.last_skip is True


def test_backward_is_the_spec_not_autograd_when_smoothing():
    """After the warm-up the spec's backward (smoothed gradient statistics)
    is not the gradient of the forward: the module must use the former."""
    from un_mlir.torch.module import train_forward

    rng = np.random.default_rng(1)
    hp = dict(eps=1e-5, momentum=0.9, warmup_iters=0, outlier_filtration=False, r_max=5.0,
              r_warmup=0)
    m = UnifiedNorm(4, window=2, **hp)
    for s in (1.0, 2.0, 0.5, 1.5):
        xt = torch.tensor(s * rng.standard_normal((6, 4)), dtype=torch.float32,
                          requires_grad=True)
        before = {k: getattr(m, k).clone() for k in ("running_var", "win_x2", "skips")}
        t = int(m.t) + 1
        m(xt).pow(2).sum().backward()
    # autograd through the same forward step, from the same state
    xa = xt.detach().clone().requires_grad_()
    y = train_forward(xa, m.weight, m.bias, before["running_var"], before["win_x2"], t,
                      before["skips"], None, **hp)[0]
    y.pow(2).sum().backward()
    assert not m.last_skip
    assert not torch.allclose(xt.grad, xa.grad, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("kernels", KERNELS)
def test_state_dict_round_trip_mid_sequence(kernels):
    C, shape = 8, (4, 3, 8)
    rng = np.random.default_rng(5)
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = np.zeros(C, np.float32)
    xs, gys = sequence(rng, shape, [1, 1.1, 0.9, 1, 20, 1, 1.05, 0.95])
    hp = dict(warmup_iters=2, outlier_filtration=True, r_warmup=3, r_max=3.0)
    want = reference.run_sequence(xs, gys, gamma, beta, reference.UNState.fresh(C, 3, 3), **hp)
    a = make_module(C, gamma, beta, window=3, kernels=kernels, **hp)
    first = run_module(a, xs[:4], gys[:4])
    state = copy.deepcopy(a.state_dict())
    assert {"running_var", "ema_gz", "win_x2", "win_gz", "t", "skips"} <= set(state)
    b = UnifiedNorm(C, window=3, kernels=kernels, **hp)
    b.load_state_dict(state)
    assert int(b.t) == 4
    rest = run_module(b, xs[4:], gys[4:])
    compare(first + rest, want, rtol=2e-5, atol=2e-6)
    assert any(w["skip"] for w in want[4:])


@pytest.mark.parametrize("kernels", KERNELS)
def test_eval_is_the_affine_map(kernels):
    C = 8
    m = UnifiedNorm(C, eps=1e-3, kernels=kernels)
    rng = np.random.default_rng(2)
    with torch.no_grad():
        m.weight.copy_(torch.tensor(rng.uniform(0.5, 2, C)))
        m.bias.copy_(torch.tensor(rng.standard_normal(C)))
        m.running_var.copy_(torch.tensor(rng.uniform(0.2, 3, C)))
    m.eval()
    x = rng.standard_normal((2, 5, C)).astype(np.float32)
    y = m(torch.from_numpy(x)).detach().numpy()
    want = reference.infer(x, m.weight.detach().numpy(), m.bias.detach().numpy(),
                           m.running_var.numpy(), eps=1e-3)
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)
    t_before = int(m.t)
    m(torch.from_numpy(x))
    assert int(m.t) == t_before  # eval leaves the state alone


def test_drop_in_for_layernorm_arguments():
    m = UnifiedNorm((32,), 1e-6, elementwise_affine=False)
    assert m.weight is None and m.bias is None
    y = m(torch.randn(2, 32))
    assert y.shape == (2, 32)
    with pytest.raises(ValueError, match="last dim"):
        UnifiedNorm((4, 8))
    with pytest.raises(ValueError, match="pad_mask"):
        UnifiedNorm(4)(torch.randn(2, 3, 4), torch.zeros(2, 4, dtype=torch.bool))
    h = UnifiedNorm(16).half()
    assert h.weight.dtype == torch.float16
    assert all(getattr(h, k).dtype == torch.float32 for k in STATE)
    assert h(torch.randn(3, 16, dtype=torch.float16)).dtype == torch.float16


class Block(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.norm1 = nn.LayerNorm(C, eps=1e-6)
        self.fc = nn.Linear(C, C)
        self.inner = nn.Sequential(nn.LayerNorm(C), nn.GELU())
        self.image_norm = nn.LayerNorm([4, C])

    def forward(self, x):
        return self.inner(self.fc(self.norm1(x)))


def test_convert_layernorm_swaps_and_reports():
    torch.manual_seed(0)
    model = Block(8)
    with torch.no_grad():
        model.norm1.weight.uniform_(0.5, 1.5)
        model.norm1.bias.uniform_(-1, 1)
    w, b = model.norm1.weight.detach().clone(), model.norm1.bias.detach().clone()
    report = convert_layernorm(model, window=2, warmup_iters=10, outlier_filtration=True)
    assert [n for n, _ in report.swapped] == ["norm1", "inner.0"]
    assert [n for n, _ in report.skipped] == ["image_norm"]
    assert isinstance(model.norm1, UnifiedNorm) and isinstance(model.inner[0], UnifiedNorm)
    assert isinstance(model.image_norm, nn.LayerNorm)
    assert model.norm1.eps == 1e-6 and model.norm1.window == 2
    assert model.norm1.outlier_filtration and model.norm1.warmup_iters == 10
    assert torch.equal(model.norm1.weight, w) and torch.equal(model.norm1.bias, b)
    assert "2 LayerNorm swapped" in str(report) and "norm1" in str(report)
    y = model(torch.randn(2, 3, 8))
    y.sum().backward()
    assert int(model.norm1.t) == 1


def test_convert_transformer_encoder_layer_eval_uses_unified_norm():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True).eval()
    report = convert_layernorm(layer)
    assert len(report) == 2
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        y1 = layer(x)
        layer.norm1.running_var.fill_(4.0)
        layer.norm2.running_var.fill_(4.0)
        y2 = layer(x)
    # the fast path (which would compute LayerNorm itself) is not taken
    assert not torch.allclose(y1, y2)


def _llama():
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, intermediate_size=128, max_position_embeddings=64)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(config)


def _rms_modules(model):
    return [m for m in model.modules() if "rmsnorm" in type(m).__name__.lower()]


def test_rmsnorms_are_reported_without_rmsnorm_flag():
    model = _llama()
    report = convert_layernorm(model)
    assert not report.swapped and len(report.skipped) == 5  # 2 per layer + final norm
    assert all("pass rmsnorm=True" in why for _, why in report.skipped)
    assert len(_rms_modules(model)) == 5


def test_convert_llama_rmsnorms():
    model = _llama()
    with torch.no_grad():
        for m in _rms_modules(model):
            m.weight.uniform_(0.5, 1.5)
        weights = {n: m.weight.detach().clone() for n, m in model.named_modules()
                   if "rmsnorm" in type(m).__name__.lower()}
    report = convert_layernorm(model, rmsnorm=True, window=2, warmup_iters=5)
    assert not _rms_modules(model)
    assert sorted(report.rmsnorm_swapped) == sorted(weights) and not report.skipped
    assert "5 RMSNorm swapped" in str(report)
    for name, w in weights.items():
        un = model.get_submodule(name)
        assert isinstance(un, UnifiedNorm) and un.bias is None and un.window == 2
        assert un.eps == 1e-6 and torch.equal(un.weight.detach(), w)
    model.train()
    ids = torch.randint(0, 128, (2, 7))
    out = model(ids, labels=ids)
    out.loss.backward()
    assert torch.isfinite(out.loss)
    norm = model.model.norm
    assert int(norm.t) == 1 and norm.weight.grad is not None


def test_convert_rmsnorm_modules():
    pytest.importorskip("transformers")
    from transformers.models.gemma.modeling_gemma import GemmaRMSNorm
    from transformers.models.t5.modeling_t5 import T5LayerNorm

    torch.manual_seed(0)
    gemma = GemmaRMSNorm(16)  # output * (1 + weight)
    t5 = T5LayerNorm(16, eps=1e-5)
    with torch.no_grad():
        gemma.weight.uniform_(-0.5, 0.5)
        t5.weight.uniform_(0.5, 1.5)

    class Gated(nn.Module):  # an RMSNorm that needs a second input
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(16))
            self.eps = 1e-6

        def forward(self, x, gate):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight * gate

    Gated.__name__ = "GatedRMSNorm"
    model = nn.Sequential(nn.Linear(16, 16), nn.RMSNorm(16, eps=1e-5), t5, gemma,
                          nn.RMSNorm(16, elementwise_affine=False), nn.RMSNorm([4, 16]), Gated())
    report = convert_layernorm(model, rmsnorm=True)
    assert report.rmsnorm_swapped == ["1", "2", "3", "4"]
    assert [n for n, _ in report.skipped] == ["5", "6"]
    assert "last dim" in report.skipped[0][1] and "could not be probed" in report.skipped[1][1]
    assert isinstance(model[1], UnifiedNorm) and model[1].eps == 1e-5
    assert torch.equal(model[2].weight.detach(), t5.weight.detach())
    torch.testing.assert_close(model[3].weight.detach(), 1 + gemma.weight.detach())
    assert "gamma = 1 + weight" in dict(report.swapped)["3"]
    assert model[4].weight is None and model[4].bias is None
    y = nn.Sequential(*model[:5])(torch.randn(2, 3, 16))
    y.sum().backward()
    assert model[3].weight.grad is not None


def test_converted_rmsnorm_in_eval_is_rmsnorm_at_running_var():
    """With running_var = the token's mean square, UN's inference map is the
    RMSNorm's output (gamma = weight, beta = 0)."""
    torch.manual_seed(1)
    rms = nn.RMSNorm(8, eps=1e-5)
    with torch.no_grad():
        rms.weight.uniform_(0.5, 1.5)
    x = torch.randn(1, 8)
    want = rms(x)
    un = convert_layernorm(rms, rmsnorm=True).model.eval()
    with torch.no_grad():
        un.running_var.fill_(float(x.pow(2).mean()))
    torch.testing.assert_close(un(x), want)
