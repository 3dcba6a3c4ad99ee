"""Folding UN into linear layers does not change the numbers.

Every function of the lit tests of un-fold-into-linear
(test/Transforms/fold-into-linear*.mlir, fold and no-fold cases) and of
the inference pipeline (test/Pipelines/inference-pipeline.mlir) whose
arguments and results are static f32 tensors is compiled three times for
the host CPU:

  reference   un-cpu-pipeline (un.infer / un.affine lowered as they are)
  fold        un-fold-into-linear, then un-cpu-pipeline
  pipeline    un-inference-pipeline (fold with hoist-weight-prep, simplify,
              fuse), then un-cpu-pipeline

and run on the same random inputs (variances positive); the folded
results must agree with the reference to relative 1e-5 (with the absolute
floor of test/Integration/CPU for values near zero).
"""
import re
import zlib

import numpy as np
import pytest

from conftest import ROOT, UN_OPT
from un_mlir import harness

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")

FILES = sorted((ROOT / "test" / "Transforms").glob("fold-into-linear*.mlir")) + [
    ROOT / "test" / "Pipelines" / "inference-pipeline.mlir"]
VARIANTS = {
    "reference": ["un-cpu-pipeline"],
    "fold": ["un-fold-into-linear", "un-cpu-pipeline"],
    "pipeline": ["un-inference-pipeline", "un-cpu-pipeline"],
}


def _runnable(text, name):
    try:
        _, args, results = harness.signature(text, name)
        types = [harness.TensorType(t) for t in args + results]
    except (KeyError, ValueError):
        return False
    return bool(results) and all(t.element == "f32" for t in types)


def _cases():
    """(id, prefixed name, chunk text) of every runnable function."""
    cases, module, resources = [], [], []
    for path in FILES:
        for k, chunk in enumerate(path.read_text().split("// -----")):
            # A `{-# dialect_resources #-}` section must end the module.
            chunk, marker, resource = chunk.partition("{-#")
            if marker:
                resources.append(marker + resource)
            prefix = f"{path.stem.replace('-', '_')}_{k}_"
            # Unique symbols and attribute aliases across chunks.
            chunk = re.sub(r"@([A-Za-z_][\w$.]*)", rf"@{prefix}\1", chunk)
            chunk = re.sub(r"#([A-Za-z_][\w$.]*)", rf"#{prefix}\1", chunk)
            chunk = "\n".join(line for line in chunk.splitlines()
                              if not line.lstrip().startswith("//"))
            names = harness.function_names(chunk)
            runnable = [n for n in names if _runnable(chunk, n)]
            if runnable:
                module.append(chunk)
            for n in runnable:
                cases.append((f"{path.stem}:{n[len(prefix):]}", n))
    if len(resources) > 1:
        raise NotImplementedError("one dialect_resources section at most")
    return cases, "\n".join(module + resources)


CASES, MODULE = _cases()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fold_numerics")
    names = [n for _, n in CASES]
    return {variant: harness.compile_module(MODULE, names, tmp / f"{variant}.so", pipeline)
            for variant, pipeline in VARIANTS.items()}


def test_every_lit_file_has_runnable_cases():
    stems = {case_id.split(":")[0] for case_id, _ in CASES}
    assert stems == {p.stem for p in FILES}


@pytest.mark.parametrize("name", [n for _, n in CASES], ids=[i for i, _ in CASES])
def test_folded_matches_unfolded(compiled, name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    inputs = harness.random_inputs(MODULE, name, rng)
    want = compiled["reference"][name](*inputs)
    assert all(np.isfinite(w).all() for w in want)
    for variant in ("fold", "pipeline"):
        got = compiled[variant][name](*inputs)
        for i, (g, w) in enumerate(zip(got, want)):
            harness.assert_close(g, w, rtol=1e-5, what=f"{variant} result {i}")
