"""un-opt never crashes on malformed IR: mutated versions of valid un ops
must give a diagnostic (exit code 1) or pass (exit code 0), never a signal
or an assertion."""
import random
import re
import subprocess

import pytest

from conftest import ROOT, UN_OPT

SEED_FILE = ROOT / "test" / "Dialect" / "UN" / "ops.mlir"

# Replacements for type tokens: wrong ranks, element types, zero and
# dynamic sizes, unranked tensors, non-tensors.
TYPE_SUBSTITUTES = [
    "tensor<f32>", "tensor<0xf32>", "tensor<?xf32>", "tensor<*xf32>",
    "tensor<4x0xf32>", "tensor<0x4xf32>", "tensor<?x?xf32>", "i1", "i64",
    "f32", "tensor<4xi1>", "tensor<4xf64>", "tensor<2x3xi1>", "index",
    "memref<4xf32>", "tensor<4xbf16>", "tensor<1x1x1x1x1xf16>",
]
ATTR_SUBSTITUTES = [
    "eps = 0.0 : f32", "eps = 1.0 : f64", "momentum = 1.0 : f32",
    "r_max = -1.0 : f32", "warmup_iters = -4 : i64", "r_warmup = 1 : i32",
    "outlier_filtration = 3 : i64", "eps = \"x\"", "eps = 0x7FC00000 : f32",
]


def functions():
    text = SEED_FILE.read_text()
    return re.findall(r"^func\.func .*?^}$", text, flags=re.S | re.M)


def mutate(func, rng):
    kind = rng.randrange(5)
    types = list(re.finditer(r"tensor<[^>]*>|\bi1\b|\bi64\b", func))
    if kind == 0 and types:  # swap one type
        m = rng.choice(types)
        return func[:m.start()] + rng.choice(TYPE_SUBSTITUTES) + func[m.end():]
    if kind == 1:  # drop one operand of a un op
        m = rng.choice(list(re.finditer(r", %[a-z0-9_#]+", func)) or [None])
        return func if m is None else func[:m.start()] + func[m.end():]
    if kind == 2:  # bad attribute
        return re.sub(r"\{eps = [^,}]*", "{" + rng.choice(ATTR_SUBSTITUTES),
                      func, count=1)
    if kind == 3:  # truncate
        return func[: rng.randrange(len(func))]
    # duplicate a result type list entry
    return func.replace("-> (", "-> (i1, ", 1)


@pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")
def test_mutated_ops_never_crash():
    rng = random.Random(2022)
    funcs = functions()
    assert len(funcs) >= 10
    cases = [mutate(rng.choice(funcs), rng) for _ in range(250)]
    # One process per batch: -split-input-file keeps the cases independent.
    for start in range(0, len(cases), 25):
        batch = "\n// -----\n".join(cases[start:start + 25])
        for flags in ([], ["-canonicalize"]):
            proc = subprocess.run(
                [str(UN_OPT), "-split-input-file", *flags, "-o", "/dev/null"],
                input=batch, capture_output=True, text=True, timeout=120)
            assert proc.returncode in (0, 1), (
                f"un-opt crashed (exit {proc.returncode}):\n"
                f"{proc.stderr[-3000:]}")
            assert "Assertion" not in proc.stderr
            assert "Stack dump" not in proc.stderr
