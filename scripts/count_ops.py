#!/usr/bin/env python3
"""Print the un and linalg ops of functions of an MLIR file (custom form).

    python3 scripts/count_ops.py FILE [FUNC ...]

Without FUNC, every function defined in FILE. One line per function:
`@name: un N (op xK ...), linalg M (op xK ...)`.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
from un_mlir import harness  # noqa: E402


def describe(counts, prefix):
    ops = {op: n for op, n in sorted(counts.items()) if op.startswith(prefix)}
    total = sum(ops.values())
    detail = " ".join(f"{op[len(prefix):]} x{n}" for op, n in ops.items())
    return f"{total}" + (f" ({detail})" if detail else "")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    text = pathlib.Path(argv[1]).read_text()
    names = argv[2:] or harness.function_names(text)
    for name in names:
        counts = harness.count_ops(text, name)
        print(f"@{name}: un {describe(counts, 'un.')}, linalg {describe(counts, 'linalg.')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
