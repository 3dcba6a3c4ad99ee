"""Training through the exporter: @forward (un.train_forward, state in and
out) and @backward (un.train_backward and the reverse-mode gradients of the
rest), JIT-compiled, equal UnifiedNorm's forward and PyTorch autograd over
several SGD steps, state included."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from conftest import require_native
from un_mlir.torch import UnifiedNorm, export

compiler = require_native()

HP = dict(window=3, window_bwd=2, warmup_iters=2, outlier_filtration=True, r_max=2.0,
          r_warmup=3)
STATE_FWD = ("running_var", "win_x2", "skips")
STATE_BWD = ("ema_gz", "win_gz")


class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = UnifiedNorm(8, **HP)

    def forward(self, x, pad_mask):
        return self.norm(x, pad_mask)


def close(got, want, what, rtol=1e-5):
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


def make_model(kind):
    torch.manual_seed(5)
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(6, 8), UnifiedNorm(8, **HP), nn.ReLU(), nn.Linear(8, 4))
        with torch.no_grad():
            model[1].weight.uniform_(0.5, 1.5)
            model[1].bias.uniform_(-0.5, 0.5)
        return model, "1", lambda s: (torch.randn(2, 5, 6) * s,), (2, 5, 4)
    model = Masked()
    gen = torch.Generator().manual_seed(9)

    def inputs(s):
        return (torch.randn(3, 4, 8) * s, torch.rand(3, 4, generator=gen) < 0.25)
    return model, "norm", inputs, (3, 4, 8)


@pytest.mark.parametrize("kind", ["mlp", "masked"])
def test_train_steps_match_pytorch(kind):
    model, un, make_inputs, out_shape = make_model(kind)
    twin = copy.deepcopy(model)  # trained by PyTorch
    exported = export(model, make_inputs(1.0), mode="train")
    assert "un.train_forward" in exported.text and "un.train_backward" in exported.text
    exe = compiler.compile(exported.text)
    params = {f"param:{k}": v.detach().numpy().copy() for k, v in model.named_parameters()}
    norm = getattr(model, un) if un != "1" else model[1]
    state = {f"state:{un}.{k}": getattr(norm, k).numpy().copy() for k in STATE_FWD + STATE_BWD}
    state[f"state:{un}.skips"] = int(norm.skips)
    lr = 0.05
    skips = []
    for step, scale in enumerate([1, 1.2, 0.8, 1.1, 12.0, 1, 0.9, 1.05], start=1):
        inputs = make_inputs(scale)
        gy = torch.randn(out_shape)
        # PyTorch
        xt = inputs[0].clone().requires_grad_()
        y = twin(xt, *inputs[1:])
        y.backward(gy)
        # compiled forward
        values = {f"input:{i}": x.numpy() for i, x in enumerate(inputs)}
        values.update(params)
        values.update({k: v for k, v in state.items()
                       if k.split(".")[-1] in STATE_FWD})
        values[f"state:{un}.t"] = step
        fwd = exported.unpack("forward", exe.forward(*exported.pack("forward", values)))
        close(fwd["output:0"], y, f"y at step {step}")
        skips.append(fwd[f"saved:{un}.skip"])
        assert skips[-1] == twin_norm(twin, un).last_skip, f"skip at step {step}"
        # compiled backward
        bvalues = {k: v for k, v in fwd.items() if k.startswith("saved:")}
        bvalues["grad:output:0"] = gy.numpy()
        bvalues.update(params)
        bvalues.update({k: v for k, v in state.items() if k.split(".")[-1] in STATE_BWD})
        bvalues[f"state:{un}.t"] = step
        bwd = exported.unpack("backward", exe.backward(*exported.pack("backward", bvalues)))
        close(bwd["grad:input:0"], xt.grad, f"dx at step {step}")
        for name, p in twin.named_parameters():
            close(bwd[f"grad:param:{name}"], p.grad, f"d{name} at step {step}")
        # state threading
        for k in STATE_FWD:
            state[f"state:{un}.{k}"] = fwd[f"state:{un}.{k}"]
        for k in STATE_BWD:
            state[f"state:{un}.{k}"] = bwd[f"state:{un}.{k}"]
        tn = twin_norm(twin, un)
        for k in STATE_FWD + STATE_BWD:
            close(np.asarray(state[f"state:{un}.{k}"]), getattr(tn, k), f"{k} at step {step}")
        # one SGD step on both sides
        with torch.no_grad():
            for name, p in twin.named_parameters():
                p -= lr * p.grad
                p.grad = None
                params[f"param:{name}"] = params[f"param:{name}"] - lr * bwd[f"grad:param:{name}"]
    assert True in skips[2:] and False in skips[2:]  # an outlier batch was filtered


def twin_norm(model, un):
    return model[1] if un == "1" else getattr(model, un)
