"""Worked example (docs/python.md): train a tiny model with UnifiedNorm in
PyTorch, compile it with un_mlir.compile (the normalization folded into the
linear layer after it), save it, load it back and run it.

    PYTHONPATH=python python3 examples/python/tiny_un_model.py
"""
import tempfile

import torch
from torch import nn

import un_mlir
from un_mlir.torch import UnifiedNorm

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

# 3. Compile the eval model for this CPU, any batch size: UnifiedNorm's
#    statistics are fixed now, so it folds into the Linear after it.
model.eval()
x = centers[torch.arange(4).repeat(2)] + 0.5 * torch.randn(8, 16)
compiled = un_mlir.compile(model, (x,),
                           dynamic_shapes=({0: torch.export.Dim("batch", min=1)},))
print(compiled.report)

# 4. Save, load, run: the artifact is a directory (model.so, model.json,
#    model.h) that needs neither the model's code nor PyTorch to run.
with tempfile.TemporaryDirectory() as tmp:
    loaded = un_mlir.load(compiled.save(tmp + "/tiny"))
    got = loaded(x)
with torch.no_grad():
    want = model(x)
diff = float((got - want).abs().max())
print(f"compiled vs PyTorch: max |diff| = {diff:.2e}, "
      f"predictions agree: {bool((got.argmax(1) == want.argmax(1)).all())}")
assert torch.allclose(got, want, rtol=1e-5, atol=1e-5 * float(want.abs().max()))
