"""Patch-embedding convolutions (stride = kernel) compiled as matmuls
(un-cpu-patch-conv-to-matmul) give PyTorch's numbers, with a dynamic batch,
pixels past the last whole patch and a bias; other convolutions still
compile as convolutions."""
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir")
from torch.export import Dim  # noqa: E402

import un_mlir  # noqa: E402


@pytest.mark.parametrize("conv, size", [
    (torch.nn.Conv2d(3, 24, 16, stride=16), (34, 50)),
    (torch.nn.Conv2d(5, 8, (4, 2), stride=(4, 2), bias=False), (16, 12)),
    (torch.nn.Conv2d(3, 8, 3, stride=1, padding=1), (9, 7)),
], ids=["vit-patches", "rectangular-no-bias", "overlapping"])
def test_patch_conv(conv, size):
    torch.manual_seed(0)
    for p in conv.parameters():
        torch.nn.init.normal_(p)
    model = torch.nn.Sequential(conv, torch.nn.Flatten(2)).eval()
    x = torch.randn(2, conv.in_channels, *size)
    compiled = un_mlir.compile(model, (x,), dynamic_shapes=({0: Dim("batch", min=1)},))
    for batch in (1, 2, 3):
        xb = torch.randn(batch, conv.in_channels, *size)
        with torch.no_grad():
            want = model(xb)
        got = compiled(xb)
        assert got.shape == want.shape
        assert float((got - want).abs().max() / want.abs().max()) <= 1e-5
