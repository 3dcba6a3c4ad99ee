"""Real torch-mlir output of PyTorch models with inference normalizations
goes through `un-raise-norms`: UnifiedNorm's inference formula becomes
un.infer, BatchNorm un.affine, LayerNorm is reported and kept, and the
compiled result equals PyTorch's. UnifiedNorm is found wherever it stands:
after an embedding, at a model's end, on channels-last [B, H, W, C]
activations."""
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir")

from conftest import UN_OPT  # noqa: E402
from un_mlir import aot, memref  # noqa: E402
from un_mlir.torch import UnifiedNorm  # noqa: E402
from un_mlir.torch_mlir_import import import_model  # noqa: E402

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")
nn = torch.nn


class UNInference(nn.Module):
    """UnifiedNorm in eval, written with plain ops (the spec's formula)."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(c) + 0.5)
        self.bias = nn.Parameter(torch.rand(c) - 0.5)
        self.register_buffer("running_var", torch.rand(c) + 0.5)
        self.eps = 1e-5

    def forward(self, x):
        return self.weight * x / torch.sqrt(self.running_var + self.eps) + self.bias


class Block(nn.Module):
    def __init__(self, c=16, d=32):
        super().__init__()
        self.un = UNInference(c)
        self.fc1 = nn.Linear(c, d)
        self.bn = nn.BatchNorm1d(d)
        self.fc2 = nn.Linear(d, c)
        self.ln = nn.LayerNorm(c)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)
            self.bn.weight.uniform_(0.5, 1.5)
            self.bn.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        h = torch.nn.functional.gelu(self.bn(self.fc1(self.un(x))))
        return self.ln(self.fc2(h) + x)


def un_opt(text, *flags):
    proc = subprocess.run([str(UN_OPT), *flags], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr


def run_cpu(text, x, out_rank, tmp_path):
    lib = memref.load(aot.compile_shared_library(text, tmp_path / "model.so"))
    (y,) = memref.FunctionWithResults(lib, "main", [("memref", out_rank, np.float32)])(x)
    return y


def test_raise_and_run(tmp_path):
    torch.manual_seed(0)
    model = Block().eval()
    x = torch.randn(6, 16)
    want = model(x).detach().numpy()
    text = import_model(model, x)
    raised, remarks = un_opt(text, "--un-raise-norms")
    assert raised.count("un.infer") == 1          # UnifiedNorm's formula
    assert raised.count("un.affine") == 1         # BatchNorm (eval)
    assert "per-token normalization" in remarks  # LayerNorm: reported
    got = run_cpu(raised, x.numpy(), 2, tmp_path)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_batched_activations(tmp_path):
    """[B, N, C] activations (a Transformer block's shape)."""
    torch.manual_seed(1)
    model = nn.Sequential(UNInference(16), nn.Linear(16, 16)).eval()
    x = torch.randn(2, 5, 16)
    want = model(x).detach().numpy()
    raised, _ = un_opt(import_model(model, x), "--un-raise-norms")
    assert "un.infer" in raised
    got = run_cpu(raised, x.numpy(), 3, tmp_path)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


class UNPreserved(UNInference):
    """UnifiedNorm in eval through the custom op that torch-mlir keeps."""

    def forward(self, x):
        from un_mlir import torch_ops  # noqa: F401
        return torch.ops.un_mlir.unified_norm_infer(
            x, self.weight, self.bias, self.running_var, self.eps)


def test_preserved_route(tmp_path):
    torch.manual_seed(2)
    model = nn.Sequential(UNPreserved(16), nn.Linear(16, 8), nn.GELU(),
                          UNPreserved(8)).eval()
    x = torch.randn(4, 16)
    want = model(x).detach().numpy()
    text = import_model(model, x, preserve_unified_norm=True)
    assert text.count("call @un_mlir.unified_norm_infer") == 2
    raised, _ = un_opt(text, "--un-raise-norms")
    assert raised.count("un.infer") == 2 and "call @" not in raised
    got = run_cpu(raised, x.numpy(), 2, tmp_path)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def trained_un(c, seed):
    """A UnifiedNorm (eval) with trained-looking state."""
    g = torch.Generator().manual_seed(seed)
    norm = UnifiedNorm(c)
    with torch.no_grad():
        norm.running_var.copy_(0.5 + torch.rand(c, generator=g))
        norm.weight.copy_(1 + 0.1 * torch.randn(c, generator=g))
        norm.bias.copy_(0.1 * torch.randn(c, generator=g))
    return norm


class EmbeddingThenUN(nn.Module):
    """UN right after an embedding (an RMSNorm swapped for UN by hand)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(32, 16)
        self.norm = trained_un(16, 0)
        self.fc = nn.Linear(16, 8)

    def forward(self, ids):
        return self.fc(self.norm(self.emb(ids)))


class ChannelsLast(nn.Module):
    """Swin's patch embedding: a convolution, channels moved last, UN."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 16, kernel_size=2, stride=2)
        self.norm = trained_un(16, 1)
        self.fc = nn.Linear(16, 8)

    def forward(self, x):
        return self.fc(self.norm(self.proj(x).permute(0, 2, 3, 1)))


def embedding_case():
    return EmbeddingThenUN(), torch.randint(0, 32, (2, 5))


def end_after_gelu_case():  # last op, no linear layer next to it
    return nn.Sequential(nn.Linear(16, 16), nn.GELU(), trained_un(16, 2)), torch.randn(2, 5, 16)


def end_after_linear_case():  # last op, folds into the Linear before it
    return nn.Sequential(nn.Linear(16, 16), trained_un(16, 3)), torch.randn(2, 5, 16)


def channels_last_case():
    return ChannelsLast(), torch.randn(2, 3, 6, 6)


@pytest.mark.parametrize("case", [embedding_case, end_after_gelu_case, end_after_linear_case,
                                  channels_last_case],
                         ids=["embedding", "end-after-gelu", "end-after-linear", "channels-last"])
def test_unified_norm_anywhere(case, tmp_path):
    torch.manual_seed(4)
    model, x = case()
    model = model.eval()
    want = model(x).detach().numpy()
    text = import_model(model, x)
    raised, remarks = un_opt(text, "--un-raise-norms")
    assert raised.count("un.infer") == 1 and "un.affine" not in raised
    assert "per-token normalization" not in remarks
    folded, _ = un_opt(text, "--un-raise-norms", "--un-inference-pipeline")
    assert "un." not in folded
    for ir in (raised, folded):
        got = run_cpu(ir, x.numpy(), want.ndim, tmp_path)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_read_only_argument(tmp_path):
    """`bufferization.writable = false` on the input (what un_mlir.compiler
    sets) survives un-inference-pipeline and un-cpu-pipeline compiles it."""
    torch.manual_seed(5)
    model = nn.Sequential(trained_un(64, 4), nn.Linear(64, 64)).eval()
    x = torch.randn(8, 64)
    want = model(x).detach().numpy()
    text = import_model(model, x).replace(
        "%arg0: tensor<8x64xf32>", "%arg0: tensor<8x64xf32> {bufferization.writable = false}", 1)
    folded, _ = un_opt(text, "--un-raise-norms", "--un-inference-pipeline")
    assert "%arg0: tensor<8x64xf32> {bufferization.writable = false}" in folded
    got = run_cpu(folded, x.numpy(), 2, tmp_path)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
