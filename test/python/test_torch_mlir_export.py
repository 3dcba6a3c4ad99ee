"""The preparation of PyTorch programs for torch-mlir
(`un_mlir.torch_mlir_import.export_program`), each piece on a model small
enough to show the failure it prevents."""
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir")

import un_mlir  # noqa: E402
from un_mlir.torch_mlir_import import _cumsum_as_masked_sum  # noqa: E402


@pytest.mark.parametrize("shape, dim, dtype", [
    ((2, 16), 1, torch.int64), ((2, 16), -1, torch.int32), ((5,), 0, torch.bool),
    ((3, 4, 5), 1, torch.float32), ((3, 4, 5), 0, torch.float64), ((1, 1), 1, torch.int64),
])
def test_cumsum_as_masked_sum(shape, dim, dtype):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(*shape, generator=g) * 4).to(dtype)
    want = torch.cumsum(x, dim)
    got = _cumsum_as_masked_sum(x, dim)
    assert got.dtype == want.dtype
    torch.testing.assert_close(got, want)


class Positions(torch.nn.Module):
    """A non-persistent buffer (as BERT's position_ids) and a cumsum (as
    Llama's causal mask): torch-mlir's importer found no state for the
    buffer and lowered cumsum to tm_tensor.scan, which MLIR 22 cannot read."""

    def __init__(self):
        super().__init__()
        self.register_buffer("offsets", torch.arange(8, dtype=torch.float32), persistent=False)

    def forward(self, x, mask):
        positions = torch.cumsum(mask, dim=1) - 1
        return {"y": x + self.offsets + positions.to(x.dtype), "n": mask.sum(1)}


def test_buffers_cumsum_and_dict_results():
    model = Positions()
    x = torch.randn(2, 8)
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
    compiled = un_mlir.compile(model, (x, mask))
    got = compiled(x, mask)
    want = model(x, mask)
    assert set(got) == {"y", "n"}
    torch.testing.assert_close(got["y"], want["y"])
    assert torch.equal(got["n"], want["n"])
    assert "offsets" not in dict(model.state_dict())  # left non-persistent


def test_views_after_attention():
    """GPT-2 views SDPA's transposed output (`x.view(-1, x.size(-1))` in
    its Conv1D); torch-mlir decomposes SDPA again with other strides, and
    the view failed ("Cannot view a tensor ... strides")."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=32, n_embd=16, n_layer=1, n_head=2,
                                     n_positions=16, attn_implementation="sdpa")
    model = transformers.GPT2Model(config).eval()
    ids = torch.randint(0, 32, (2, 8))
    compiled = un_mlir.compile(model, (ids,))
    with torch.no_grad():
        want = model(ids, use_cache=False).last_hidden_state
    torch.testing.assert_close(compiled(ids).last_hidden_state, want, rtol=1e-5, atol=1e-5)
