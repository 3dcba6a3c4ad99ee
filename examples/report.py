#!/usr/bin/env python3
"""Fold the example blocks and report what folding did.

    python3 examples/report.py [--no-numbers]

For each example (examples/generate.py): the number of un ops and of linalg
ops of the block before and after `un-opt --un-inference-pipeline` (the hot
path, with the hoisted weight preparation counted apart), the same for the
block without normalization, and whether folded and unfolded compute the
same numbers on the CPU (f32, relative 1e-5 with the absolute floor of
test/Integration/CPU). Exits 1 if a un op is left, if the folded block has
more linalg ops than the block without normalization, or if the numbers
differ.
"""
import argparse
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))
sys.path.insert(0, str(HERE))

from generate import EXAMPLES  # noqa: E402
from un_mlir import fold_report  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-numbers", action="store_true",
                        help="only count ops (no compilation or run)")
    args = parser.parse_args()
    ok = True
    print("| example | before: un / linalg | unfolded, lowered: linalg "
          "| after: un / linalg (hot path) | weight prep: linalg | no norm, lowered: linalg "
          "| folded vs unfolded |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for filename, (kind, dims, name, _) in EXAMPLES.items():
            text = (HERE / filename).read_text()
            c = fold_report.fold_counts(text, name)
            numbers = "not run"
            if not args.no_numbers:
                n = fold_report.compare_numbers(text, name, kind, dims, pathlib.Path(tmp))
                numbers = (f"agree: max error {n['max_error_over_max']:.1e} of max |y|, "
                           f"{n['tolerance_used']:.0%} of tolerance")
            print(f"| {filename} @{name} | {c['before'][0]} / {c['before'][1]} "
                  f"| {c['unfolded_lowered'][1]} | {c['after'][0]} / {c['after'][1]} (@{c['hot']}) | {c['prepare'][1]} "
                  f"| {c['no_norm_after'][1]} | {numbers} |")
            if c["un_ops_left"] or c["after"][1] > c["no_norm_after"][1]:
                ok = False
    for filename, (kind, dims, name, _) in EXAMPLES.items():
        c = fold_report.fold_counts((HERE / filename).read_text(), name)
        print(f"\n{filename}: before {c['before'][2]}\n  after  {c['after'][2]}\n"
              f"  no norm {c['no_norm_after'][2]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
