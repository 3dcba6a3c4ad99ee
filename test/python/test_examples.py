"""The encoder-block examples (examples/*.mlir from examples/generate.py):
up to date, folded completely by the inference pipeline into no more linalg
ops than the same block without normalization, and computing the same
numbers folded and unfolded (f32, relative 1e-5, full ViT-S / BERT-base
sizes)."""
import sys

import pytest

from conftest import ROOT, UN_OPT
from un_mlir import fold_report

sys.path.insert(0, str(ROOT / "examples"))
from generate import EXAMPLES, render  # noqa: E402

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")


@pytest.mark.parametrize("filename", sorted(EXAMPLES))
def test_example_is_generated(filename):
    assert (ROOT / "examples" / filename).read_text() == render(filename), (
        f"examples/{filename} is stale: run python3 examples/generate.py")


@pytest.mark.parametrize("filename", sorted(EXAMPLES))
def test_folding_leaves_no_norm_cost(filename):
    kind, dims, name, _ = EXAMPLES[filename]
    c = fold_report.fold_counts((ROOT / "examples" / filename).read_text(), name)
    assert c["before"][0] > 0, "the example has no un op to fold"
    assert c["un_ops_left"] == 0
    assert c["hot"] == f"{name}_folded", "weight preparation was not hoisted"
    assert c["after"][1] <= c["no_norm_after"][1]
    # Not only as few: the very same ops as the block without normalization.
    assert c["after"][2] == c["no_norm_after"][2]
    # Unfolded, the normalization costs linalg ops of its own.
    assert c["unfolded_lowered"][1] > c["no_norm_after"][1]


@pytest.mark.parametrize("filename", sorted(EXAMPLES))
def test_folded_block_computes_the_same(filename, tmp_path):
    kind, dims, name, _ = EXAMPLES[filename]
    n = fold_report.compare_numbers((ROOT / "examples" / filename).read_text(), name, kind,
                                    dims, tmp_path)
    assert n["tolerance_used"] <= 1.0
