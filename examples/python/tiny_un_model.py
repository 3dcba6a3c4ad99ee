"""Worked example (docs/python.md): train a tiny model with UnifiedNorm in
PyTorch, export it, fold the normalization away, JIT-compile and run it.

    PYTHONPATH=python python3 examples/python/tiny_un_model.py
"""
import numpy as np
import torch
from torch import nn

from un_mlir import compiler
from un_mlir.torch import UnifiedNorm, export

torch.manual_seed(0)

# 1. A tiny classifier with UnifiedNorm where LayerNorm would be.
model = nn.Sequential(
    nn.Linear(16, 32),
    UnifiedNorm(32, window=4, warmup_iters=20, outlier_filtration=True, r_warmup=40),
    nn.GELU(),
    nn.Linear(32, 4),
)

# 2. Train it on a synthetic task (which of 4 directions x points to).
centers = torch.randn(4, 16)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(150):
    labels = torch.randint(0, 4, (64,))
    x = centers[labels] + 0.5 * torch.randn(64, 16)
    loss = nn.functional.cross_entropy(model(x), labels)
    opt.zero_grad()
    loss.backward()   # UnifiedNorm's backward is the spec's (gradient smoothing)
    opt.step()
norm = model[1]
print(f"trained: loss {loss.item():.3f}, UN step t={int(norm.t)}, "
      f"filtered batches={int(norm.skips)}")

# 3. Export in eval mode: UnifiedNorm becomes un.infer with its running
#    statistics as constants, the rest linalg on tensors.
model.eval()
x = centers[torch.arange(4).repeat(2)] + 0.5 * torch.randn(8, 16)
exported = export(model, x)
print(f"exported: {exported.text.count('un.infer')} un.infer, "
      f"{len(exported.text) // 1024} KiB of MLIR")

# 4. Fold: with constant statistics un.infer is an affine map (canonicalize),
#    which un-inference-pipeline folds into the neighbouring linear layer.
folded = compiler.run_pipeline(exported.text, "canonicalize")
print(f"canonicalized: {folded.count('un.infer')} un.infer, {folded.count('un.affine')} un.affine")
lowered = compiler.run_pipeline(exported.text, "un-inference-pipeline")
print(f"un-inference-pipeline: {lowered.count('un.')} un ops left")
pipeline = "un-inference-pipeline"
if "func.func" in lowered:
    pipeline += ",un-cpu-pipeline"

# 5. Compile for this CPU and run.
exe = compiler.compile(exported.text, pipeline=pipeline)
got = exe.forward(x.numpy())
with torch.no_grad():
    want = model(x).numpy()
print(f"JIT ({pipeline}) vs PyTorch: max |diff| = {np.max(np.abs(got - want)):.2e}, "
      f"predictions agree: {bool((got.argmax(1) == want.argmax(1)).all())}")
assert np.allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
