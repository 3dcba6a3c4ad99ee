"""un_mlir.torch.export: PyTorch models (a ViT encoder block, a BERT layer,
written with plain torch.nn modules) exported to MLIR with un ops, lowered
and JIT-compiled for the CPU, equal PyTorch; clear errors for what cannot
be exported."""
import subprocess

import numpy as np
import pytest
import torch
from torch import nn

from conftest import UN_OPT, require_native
from un_mlir.torch import ExportError, UnifiedNorm, convert_layernorm, export
from un_mlir.torch.models import BertLayer, ViTBlock

compiler = require_native()

# The JIT folds UN away first, then compiles for the CPU.
INFERENCE_PIPELINE = "un-inference-pipeline"


def jit_pipeline(text, pipeline):
    """`pipeline`, followed by un-cpu-pipeline if it stops above LLVM."""
    lowered = compiler.run_pipeline(text, pipeline)
    if "func.func" in lowered:
        return pipeline + ",un-cpu-pipeline"
    return pipeline


def warm_up(model, inputs, steps=3):
    """A few training steps so the running statistics are not the initial
    ones (forward only: the state of UnifiedNorm moves)."""
    model.train()
    with torch.no_grad():
        for i in range(steps):
            model(*[x * (1 + 0.3 * i) if x.is_floating_point() and x.dim() == 3 else x
                    for x in inputs])
    model.eval()


def check_close(got, want, rtol=1e-5):
    want = want.detach().numpy()
    scale = float(np.max(np.abs(want)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


def run_eval(model, inputs):
    model.eval()
    exported = export(model, inputs)
    text = exported.text
    assert "un.infer" in text or not exported.un_layers
    folded = compiler.run_pipeline(text, INFERENCE_PIPELINE)
    assert "un." not in folded.replace("func.func", "")
    exe = compiler.compile(text, pipeline=jit_pipeline(text, INFERENCE_PIPELINE))
    got = exe.forward(*[x.numpy() for x in inputs])
    with torch.no_grad():
        want = model(*inputs)
    return exported, got, want


@pytest.mark.parametrize("fused", [False, True])
def test_vit_block_with_unified_norm(fused):
    torch.manual_seed(0)
    model = ViTBlock(dim=32, heads=4, mlp_ratio=4, fused=fused)
    report = convert_layernorm(model, window=2, warmup_iters=0)
    assert [n for n, _ in report.swapped] == ["norm1", "norm2"]
    x = torch.randn(2, 5, 32)
    warm_up(model, (x,))
    assert not torch.allclose(model.norm1.running_var, torch.ones(32))
    exported, got, want = run_eval(model, (x,))
    assert exported.text.count("un.infer") == 2
    assert exported.un_layers == ["norm1", "norm2"]
    check_close(got, want)


def test_bert_layer_with_unified_norm_and_attention_mask():
    torch.manual_seed(1)
    model = BertLayer(hidden=48, heads=4, inner=96)
    assert len(convert_layernorm(model, window=3, warmup_iters=1)) == 2
    x = torch.randn(2, 7, 48)
    mask = torch.zeros(2, 1, 1, 7)
    mask[1, ..., 5:] = -10000.0
    warm_up(model, (x, mask))
    exported, got, want = run_eval(model, (x, mask))
    assert exported.text.count("un.infer") == 2
    check_close(got, want)
    # the padding mask matters: different masks, different outputs
    exe = compiler.compile(exported.text)
    other = exe.forward(x.numpy(), np.zeros_like(mask.numpy()))
    assert not np.allclose(other[1], got[1], atol=1e-4)


def test_bert_layer_with_layernorm():
    torch.manual_seed(2)
    model = BertLayer(hidden=32, heads=2, inner=64)
    x = torch.randn(3, 4, 32)
    mask = torch.zeros(3, 1, 1, 4)
    exported, got, want = run_eval(model, (x, mask))
    assert "un." not in exported.text
    check_close(got, want)


def test_exported_ir_is_accepted_by_un_opt_and_canonicalizes_to_affine():
    torch.manual_seed(3)
    model = ViTBlock(dim=16, heads=2, mlp_ratio=2)
    convert_layernorm(model)
    text = export(model.eval(), torch.randn(1, 3, 16)).text
    proc = subprocess.run([str(UN_OPT), "--un-cpu-pipeline"], input=text.encode(),
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"llvm.func @forward" in proc.stdout
    canon = compiler.run_pipeline(text, "canonicalize")
    assert "un.infer" not in canon and canon.count("un.affine") == 2


def test_parameters_as_arguments():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(6, 12), UnifiedNorm(12), nn.ReLU(), nn.Linear(12, 3)).eval()
    with torch.no_grad():
        model[1].running_var.uniform_(0.5, 2.0)
        model[1].weight.uniform_(0.5, 1.5)
    x = torch.randn(4, 6)
    exported = export(model, x, params="arguments")
    args, _ = exported.signatures["forward"]
    assert args[0] == "input:0" and "param:1.running_var" in args and "param:0.weight" in args
    exe = compiler.compile(exported.text)
    named = dict(model.named_parameters())
    named.update(dict(model.named_buffers()))
    values = {"input:0": x.numpy()}
    values.update({f"param:{k}": v.detach().numpy() for k, v in named.items()})
    got = exe.forward(*exported.pack("forward", values))
    check_close(got, model(x))


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        y = self.fc(x).cumsum(dim=1)
        return self.attn(y, y, y)[0] + torch.sort(y, dim=-1).values


def test_unsupported_ops_are_named():
    with pytest.raises(ExportError) as info:
        export(Unsupported(), torch.randn(2, 3, 8))
    msg = str(info.value)
    assert "cumsum" in msg and "'attn': MultiheadAttention" in msg and "torch.sort" in msg
    assert "'fc'" not in msg  # the Linear is fine
    assert "self.fc(x).cumsum(dim=1)" in msg  # the user's source line


def test_dropout_in_training_is_refused():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    with pytest.raises(ExportError, match="dropout"):
        export(model, torch.randn(2, 4), mode="train")


def test_float64_model_is_refused_with_a_clear_error():
    with pytest.raises(ExportError, match="float32"):
        export(nn.Linear(3, 3).double().eval(), torch.randn(2, 3, dtype=torch.float64))
