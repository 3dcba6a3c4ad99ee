"""Folding on what torch-mlir really emits.

A PyTorch MLP block (Linear, GELU, Linear, residual) is exported with
torch-mlir's FX importer to linalg on tensors (weights as dense_resource
constants, transposed by linalg.transpose, 3-D activations collapsed around
each matmul, broadcast bias generics). A UN with constant statistics is
spliced into the text, as a frontend that knows UN would emit it: before
the first Linear (pre-norm) or after it (between the Linear and the GELU).
Then `un-opt --un-inference-pipeline` must fold it away completely at
compile time (no un op, no weight preparation function, no transpose left
for the folded weight, not more linalg ops than the block without UN), and
the folded block must compute what the unfolded one and PyTorch compute.
"""
import re

import numpy as np
import pytest

from conftest import UN_OPT
from un_mlir import aot, harness

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")
torch = pytest.importorskip("torch")
fx = pytest.importorskip("torch_mlir.fx")

B, T, C, F = 2, 5, 8, 16
EPS = 1e-5


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(C, F)
        self.fc2 = torch.nn.Linear(F, C)

    def forward(self, x):
        return self.fc2(torch.nn.functional.gelu(self.fc1(x), approximate="tanh")) + x


def _dense(values):
    return "dense<[" + ", ".join(f"{v:.9e}" for v in values) + f"]> : tensor<{len(values)}xf32>"


def _un_infer(name, source, shape, g, beta, rv):
    t = "tensor<" + "x".join(map(str, shape)) + "xf32>"
    v = f"tensor<{len(g)}xf32>"
    return (f"    %{name}_g = arith.constant {_dense(g)}\n"
            f"    %{name}_b = arith.constant {_dense(beta)}\n"
            f"    %{name}_rv = arith.constant {_dense(rv)}\n"
            f"    %{name} = un.infer {source}, %{name}_g, %{name}_b, %{name}_rv "
            f"{{eps = {EPS:e} : f32}} : ({t}, {v}, {v}, {v}) -> {t}\n")


@pytest.fixture(scope="module")
def exported():
    torch.manual_seed(0)
    model = Block().eval()
    x = torch.randn(B, T, C)
    text = str(fx.export_and_import(model, x, output_type="linalg-on-tensors"))
    return model, text


def _splice(text, where, stats):
    """`text` with a UN inserted `where` ("before" fc1 or "after" it)."""
    g, beta, rv = stats
    if where == "before":
        # fc1 reads x through the first collapse of %arg0; the residual add
        # keeps reading x.
        m = re.search(r"^(\s*)(%\S+) = tensor\.collapse_shape %arg0 ", text, re.M)
        un = _un_infer("un", "%arg0", (B, T, C), g, beta, rv)
        return text[:m.start()] + un + text[m.start():].replace(
            "tensor.collapse_shape %arg0 ", "tensor.collapse_shape %un ", 1)
    # After fc1: its output is expanded back to [B, T, F], then read by GELU.
    m = re.search(r"^\s*(%expanded\S*) = tensor\.expand_shape .*\n", text, re.M)
    name = m.group(1)
    un = _un_infer("un", name, (B, T, F), g, beta, rv)
    rest = text[m.end():]
    rest = re.sub(r"ins\(" + re.escape(name) + r" :", "ins(%un :", rest, count=1)
    return text[:m.end()] + un + rest


def _reference(model, x, where, stats):
    g, beta, rv = (torch.tensor(s, dtype=torch.float64) for s in stats)
    m = model.double()
    x = torch.tensor(x, dtype=torch.float64)

    def un(v):
        return g / torch.sqrt(rv + EPS) * v + beta

    with torch.no_grad():
        gelu = lambda v: torch.nn.functional.gelu(v, approximate="tanh")  # noqa: E731
        if where == "before":
            y = m.fc2(gelu(m.fc1(un(x)))) + x
        else:
            y = m.fc2(gelu(un(m.fc1(x)))) + x
    model.float()
    return y.numpy()


@pytest.mark.parametrize("where", ["before", "after"])
def test_torch_mlir_block_folds_at_compile_time(exported, where, tmp_path):
    model, text = exported
    rng = np.random.default_rng(1)
    n = C if where == "before" else F
    stats = ((1 + 0.1 * rng.standard_normal(n)).astype(np.float32),
             (0.1 * rng.standard_normal(n)).astype(np.float32),
             rng.uniform(0.5, 2.0, n).astype(np.float32))
    with_un = _splice(text, where, stats)
    assert with_un.count("un.infer") == 1

    folded = aot.run_un_opt(with_un, ["un-inference-pipeline"])
    plain = aot.run_un_opt(text, ["un-inference-pipeline"])
    assert not re.search(r"\bun\.[a-z_]+", folded)
    assert "_prepare_weights" not in folded, "constant weights left run-time work"
    _, linalg_folded = harness.summarize_counts(harness.count_ops(folded, "main"))
    _, linalg_plain = harness.summarize_counts(harness.count_ops(plain, "main"))
    assert linalg_folded <= linalg_plain
    # The folded weight is a new constant: one transpose fewer at run time.
    assert folded.count("linalg.transpose") == plain.count("linalg.transpose") - 1

    x = rng.standard_normal((B, T, C)).astype(np.float32)
    unfolded_fn = harness.compile_module(with_un, ["main"], tmp_path / "unfolded.so")["main"]
    folded_fn = harness.compile_module(with_un, ["main"], tmp_path / "folded.so",
                                       ["un-inference-pipeline", "un-cpu-pipeline"])["main"]
    (want,) = unfolded_fn(x)
    (got,) = folded_fn(x)
    harness.assert_close(got, want, rtol=1e-5, what="folded vs unfolded")
    # Against PyTorch only to 1e-3: torch-mlir's tanh-GELU uses the constant
    # 0.797724 where PyTorch uses sqrt(2 / pi) = 0.7978846. This checks that
    # the spliced UN means what the reference says.
    harness.assert_close(want, _reference(model, x, where, stats), rtol=1e-3,
                         what="unfolded vs PyTorch")
