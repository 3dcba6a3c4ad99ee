"""Fold an example block and check it: op counts before and after
`un-opt --un-inference-pipeline`, against the same block without
normalization, and folded versus unfolded numbers on the CPU.

Used by examples/report.py and test/python/test_examples.py.

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import re

import numpy as np

from . import aot, blocks, harness

RTOL = 1e-5


def op_counts(text, name):
    """(un ops, linalg ops, {op: count}) of `func.func @name`."""
    counts = harness.count_ops(text, name)
    un, linalg = harness.summarize_counts(counts)
    return un, linalg, counts


def fold_counts(text, name):
    """Op counts of @name (with UN) and @name_no_norm, before and after the
    inference pipeline. After it, the hot path is @name_folded when the
    weight preparation was hoisted (weights are arguments), @name otherwise.
    "unfolded_lowered" is @name lowered without folding (un-to-linalg-
    pipeline), the "no_norm_*" entries are @name_no_norm."""
    folded = aot.run_un_opt(text, ["un-inference-pipeline"])
    lowered = aot.run_un_opt(text, ["un-to-linalg-pipeline"])
    hot = f"{name}_folded" if f"@{name}_folded(" in folded else name
    prep = f"{name}_prepare_weights"
    return {
        "before": op_counts(text, name),
        "after": op_counts(folded, hot),
        "unfolded_lowered": op_counts(lowered, name),
        "prepare": op_counts(folded, prep) if f"@{prep}(" in folded else (0, 0, {}),
        "no_norm_before": op_counts(text, f"{name}_no_norm"),
        "no_norm_after": op_counts(folded, f"{name}_no_norm"),
        "un_ops_left": len(re.findall(r"\bun\.[a-z_]+\b", folded)),
        "hot": hot,
    }


def compare_numbers(text, name, kind, dims, workdir, seed=0):
    """Runs @name unfolded (un-cpu-pipeline) and folded (un-inference-
    pipeline, then un-cpu-pipeline) on the same inputs; returns the max
    error relative to the largest value and the share of the tolerance
    used (|got - want| <= max(1e-5 |want|, 1e-6 max |want|) is 100%)."""
    reference = harness.compile_module(text, [name], workdir / f"{name}_reference.so")
    folded = harness.compile_module(text, [name], workdir / f"{name}_folded.so",
                                    ["un-inference-pipeline", "un-cpu-pipeline"])
    inputs = blocks.example_inputs(kind, "un", dims, np.random.default_rng(seed))
    (want,) = reference[name](*inputs)
    (got,) = folded[name](*inputs)
    harness.assert_close(got, want, rtol=RTOL, what=f"@{name} folded vs unfolded")
    want64, got64 = want.astype(np.float64), got.astype(np.float64)
    scale = float(np.max(np.abs(want64)))
    tol = np.maximum(RTOL * np.abs(want64), RTOL / 10 * max(1.0, scale))
    return {"max_error_over_max": float(np.max(np.abs(got64 - want64))) / scale,
            "tolerance_used": float(np.max(np.abs(got64 - want64) / tol)),
            "median_relative_error": float(np.median(
                np.abs(got64 - want64) / np.maximum(np.abs(want64), 1e-30)))}
