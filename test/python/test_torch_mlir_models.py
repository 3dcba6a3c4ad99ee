"""Transformer blocks written with plain torch.nn, their LayerNorms swapped
for UnifiedNorm (eval), through real torch-mlir, then
`un-opt --un-raise-norms --un-inference-pipeline`: every normalization is
found and folded away (no un op left), and the compiled CPU result equals
PyTorch's. The same blocks with LayerNorm: every LayerNorm is reported,
nothing is raised or folded, and the numbers still match. A small
transformers Llama with its RMSNorms converted (`rmsnorm=True`) goes the
same way."""
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir")

from conftest import UN_OPT  # noqa: E402
from un_mlir import aot, memref  # noqa: E402
from un_mlir.torch import UnifiedNorm, convert_layernorm  # noqa: E402
from un_mlir.torch.models import BertLayer, ViTBlock  # noqa: E402
from un_mlir.torch_mlir_import import import_model  # noqa: E402

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")

RAISE = ["--un-raise-norms"]
FOLD = ["--un-raise-norms", "--un-inference-pipeline"]


def unified(model, seed):
    """`model` with UnifiedNorm for every LayerNorm, trained-looking state."""
    convert_layernorm(model)
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, UnifiedNorm):
            with torch.no_grad():
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
                m.weight.copy_(1 + 0.1 * torch.randn(m.weight.shape, generator=g))
                if m.bias is not None:  # a converted RMSNorm has none
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
    return model.eval()


def compile_and_run(text, inputs, out_rank, tmp_path):
    lib = memref.load(aot.compile_shared_library(text, tmp_path / "model.so"))
    fn = memref.FunctionWithResults(lib, "main", [("memref", out_rank, np.float32)])
    (y,) = fn(*[np.ascontiguousarray(i.numpy()) for i in inputs])
    return y


def un_opt(text, flags):
    proc = subprocess.run([str(UN_OPT), *flags], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr


def vit_case():
    torch.manual_seed(0)
    return ViTBlock(dim=64, heads=4, mlp_ratio=2), (torch.randn(2, 9, 64),)


def bert_case():
    torch.manual_seed(1)
    mask = torch.zeros(2, 1, 1, 9)
    mask[1, ..., 6:] = -10000.0
    return BertLayer(hidden=64, heads=4, inner=128), (torch.randn(2, 9, 64), mask)


@pytest.mark.parametrize("case", [vit_case, bert_case], ids=["vit", "bert"])
def test_unified_norm_blocks(case, tmp_path):
    model, inputs = case()
    model = unified(model, seed=3)
    want = model(*inputs).detach().numpy()
    text = import_model(model, *inputs)
    raised, remarks = un_opt(text, RAISE)
    norms = sum(isinstance(m, UnifiedNorm) for m in model.modules())
    assert norms == 2
    assert raised.count("un.affine") + raised.count("un.infer") == norms
    assert "per-token normalization" not in remarks
    folded, _ = un_opt(text, FOLD)
    assert "un." not in folded  # no normalization left
    for ir in (raised, folded):
        got = compile_and_run(ir, inputs, 3, tmp_path)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("case", [vit_case, bert_case], ids=["vit", "bert"])
def test_layer_norm_blocks_are_reported_not_raised(case, tmp_path):
    model, inputs = case()
    model = model.eval()
    want = model(*inputs).detach().numpy()
    folded, remarks = un_opt(import_model(model, *inputs), FOLD)
    assert "un." not in folded
    assert remarks.count("per-token normalization") == 2
    got = compile_and_run(folded, inputs, 3, tmp_path)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


class CausalLM(torch.nn.Module):
    """logits of a transformers causal LM, with the causal mask and the
    positions given (torch-mlir has no lowering for the cumsum with which
    transformers would build them)."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, ids):
        n = ids.shape[1]
        mask = torch.full((n, n), float("-inf")).triu(1)[None, None]
        return self.lm(input_ids=ids, attention_mask=mask, position_ids=torch.arange(n)[None],
                       use_cache=False).logits


def test_llama_with_rmsnorms_converted(tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, intermediate_size=128, max_position_embeddings=64)
    lm = transformers.LlamaForCausalLM(config)
    report = convert_layernorm(lm, rmsnorm=True)
    assert len(report.rmsnorm_swapped) == 5
    model = unified(CausalLM(lm), seed=4)
    # The rotary embedding's inverse frequencies are a non-persistent buffer,
    # which torch-mlir's import of a saved program does not find.
    for m in model.modules():
        m._non_persistent_buffers_set.clear()
    ids = torch.randint(0, 128, (1, 8))
    want = model(ids).detach().numpy()
    text = import_model(model, ids)
    raised, remarks = un_opt(text, RAISE)
    assert raised.count("un.infer") == 5  # the first right after the embedding
    assert "per-token normalization" not in remarks
    folded, _ = un_opt(text, FOLD)
    assert "un." not in folded
    got = compile_and_run(folded, (ids,), 3, tmp_path)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
