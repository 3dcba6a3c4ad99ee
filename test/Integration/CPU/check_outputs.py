#!/usr/bin/env python3
"""Compare what a CPU integration test printed with the values it expects.

Usage: check_outputs.py TEST.mlir RUNNER_OUTPUT

TEST.mlir is one of the files that generate.py writes; RUNNER_OUTPUT is
what `mlir-runner` printed when it ran that file's `@main`.

The runner output
-----------------
`@main` prints, in order, every output and state value of every step:

* float tensors as their IEEE-754 bit patterns with `printMemrefI32` (f16
  and bf16 tensors are widened to f32 first, which is exact):

      Unranked Memref base@ = 0x... rank = 2 offset = 0 sizes = [2, 3] strides = [3, 1] data =
      [[1065353216,   -1082130432,   0],
       [...]]

  The numbers are signed i32; they are read back as uint32 bit patterns
  and turned into float32 values.
* integer scalars (`skip` widened to i64, `skips`) with `printI64` and
  `printNewline`: a line holding just the number.

The expected values
-------------------
The test file ends with one comment line per printed item, in print order:

    // EXPECTED: {"step": 3, "name": "var", "dtype": "f32", "shape": [8], "values": [...]}

* `dtype` is `"f32"` or `"i64"`. For `"f32"`, `values` are the uint32 bit
  patterns of the expected float32 values (exact, and NaN/inf need no
  special spelling); for `"i64"`, the integers themselves (`shape` is `[]`).
* `rtol` (optional, default 1e-5) is the relative tolerance of the item.
  Items that are stored in f16 or bf16 (or that depend on values rounded
  to f16/bf16) carry a larger one; `storage` (optional) names the element
  type the value had before it was widened for printing. generate.py
  explains the choice per case.
* `atol` (optional) overrides the absolute floor described below.

Comparison rule
---------------
Shapes must match exactly and integers must be equal. For floats, with
`e` the expected and `g` the printed value:

* NaN must match NaN; +inf/-inf must match an infinity of the same sign;
  a non-finite value never matches a finite one;
* otherwise `|g - e| <= max(rtol * |e|, atol)`, where the absolute floor
  `atol = (rtol / 10) * max(1, max |e| over the finite values of that
  tensor)`. The floor is there for values near zero, whose relative error
  is meaningless when they come out of a cancellation (e.g. `gx = (g -
  ema_gz * z) / sqrt(var + eps)`); it is small next to the tensor's
  largest value (1e-6 of it for the default rtol 1e-5).

On the first mismatching items (up to 20 are listed) this prints step,
name, index, got and expected and exits 1; on success it prints a one-line
summary and exits 0.
"""

import json
import math
import re
import struct
import sys

DEFAULT_RTOL = 1e-5
ATOL_FRACTION = 0.1  # atol = ATOL_FRACTION * rtol * max(1, max|e|)
EXPECTED_PREFIX = "// EXPECTED: "
MAX_REPORTED = 20


class FormatError(Exception):
    pass


# ---------------------------------------------------------------- conversions

def bits_to_f32(bits):
    """uint32 (or signed i32) bit pattern -> float32 value as a Python float."""
    return struct.unpack("<f", struct.pack("<I", int(bits) & 0xFFFFFFFF))[0]


def f32_to_bits(value):
    """Python float -> uint32 bit pattern of the nearest float32."""
    return struct.unpack("<I", struct.pack("<f", value))[0]


def _prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _unravel(flat, shape):
    idx = []
    for d in reversed(shape):
        idx.append(flat % d if d else 0)
        flat = flat // d if d else 0
    return tuple(reversed(idx))


# ---------------------------------------------------------------- parsing

def parse_expected(text):
    """The EXPECTED items of a test file, in order."""
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith(EXPECTED_PREFIX):
            try:
                item = json.loads(line[len(EXPECTED_PREFIX):])
            except json.JSONDecodeError as e:
                raise FormatError(f"line {n}: bad EXPECTED json: {e}") from None
            for key in ("step", "name", "dtype", "shape", "values"):
                if key not in item:
                    raise FormatError(f"line {n}: EXPECTED item without '{key}'")
            if item["dtype"] not in ("f32", "i64"):
                raise FormatError(f"line {n}: unknown dtype {item['dtype']!r}")
            if len(item["values"]) != _prod(item["shape"]):
                raise FormatError(f"line {n}: {len(item['values'])} values for shape "
                                  f"{item['shape']}")
            items.append(item)
    return items


_HEADER = re.compile(r"Unranked Memref base@ = \S+ rank = (\d+) offset = (-?\d+) "
                     r"sizes = \[([^\]]*)\] strides = \[([^\]]*)\] data =(.*)$")
_INT = re.compile(r"-?\d+")


def parse_runner_output(text):
    """Items printed by the runner, in order.

    Each item is {"kind": "memref", "shape": [...], "values": [i32...]} or
    {"kind": "scalar", "shape": [], "values": [int]}.
    """
    items = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if line.startswith("Unranked Memref"):
            m = _HEADER.match(line)
            if not m:
                raise FormatError(f"output line {i + 1}: bad memref header: {line!r}")
            rank = int(m.group(1))
            shape = [int(s) for s in _INT.findall(m.group(3))]
            if len(shape) != rank:
                raise FormatError(f"output line {i + 1}: rank {rank} but sizes {shape}")
            buf = m.group(5)
            start = i
            while buf.count("[") == 0 or buf.count("[") != buf.count("]"):
                i += 1
                if i >= len(lines):
                    raise FormatError(f"output line {start + 1}: memref data never ends")
                buf += "\n" + lines[i]
            values = [int(v) for v in _INT.findall(buf)]
            if len(values) != _prod(shape):
                raise FormatError(f"output line {start + 1}: {len(values)} values for "
                                  f"sizes {shape}")
            items.append({"kind": "memref", "shape": shape, "values": values})
        elif re.fullmatch(r"-?\d+", stripped):
            items.append({"kind": "scalar", "shape": [], "values": [int(stripped)]})
        elif stripped:
            raise FormatError(f"output line {i + 1}: unexpected text {line!r}")
        i += 1
    return items


def format_runner_output(expected):
    """Render EXPECTED items the way mlir-runner would print them (for tests)."""
    out = []
    for item in expected:
        if item["dtype"] == "i64":
            out.append(str(item["values"][0]))
            continue
        shape = item["shape"]
        signed = [v - (1 << 32) if v >= (1 << 31) else v for v in item["values"]]
        strides, s = [], 1
        for d in reversed(shape):
            strides.append(s)
            s *= d
        strides.reverse()
        out.append(f"Unranked Memref base@ = 0x5555deadbeef rank = {len(shape)} offset = 0 "
                   f"sizes = {list(shape)} strides = {strides} data = ")

        def nest(vals, dims):
            if not dims:
                return str(vals[0])
            if len(dims) == 1:
                return "[" + ",   ".join(str(v) for v in vals) + "]"
            n = _prod(dims[1:])
            return "[" + ", \n".join(nest(vals[k * n:(k + 1) * n], dims[1:])
                                     for k in range(dims[0])) + "]"

        out.append(nest(signed, shape) if shape else f"[{signed[0]}]")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- comparison

def _describe(item):
    return f"step {item['step']} {item['name']}"


def compare_item(exp, got, scale=1.0):
    """Mismatches of one item: list of strings. `scale` multiplies the tolerances."""
    where = _describe(exp)
    if exp["dtype"] == "i64":
        if got["kind"] != "scalar":
            return [f"{where}: expected an i64 scalar, got a memref of shape {got['shape']}"]
        if got["values"][0] != exp["values"][0]:
            return [f"{where}: got {got['values'][0]}, expected {exp['values'][0]}"]
        return []
    if got["kind"] != "memref":
        return [f"{where}: expected an f32 tensor of shape {exp['shape']}, got the scalar "
                f"{got['values'][0]}"]
    if list(got["shape"]) != list(exp["shape"]):
        return [f"{where}: got shape {got['shape']}, expected {exp['shape']}"]
    e_vals = [bits_to_f32(b) for b in exp["values"]]
    g_vals = [bits_to_f32(b) for b in got["values"]]
    rtol = exp.get("rtol", DEFAULT_RTOL) * scale
    finite = [abs(v) for v in e_vals if math.isfinite(v)]
    atol = exp.get("atol", ATOL_FRACTION * exp.get("rtol", DEFAULT_RTOL)
                   * max([1.0] + finite)) * scale
    errors = []
    for k, (g, e) in enumerate(zip(g_vals, e_vals)):
        if math.isnan(e):
            ok = math.isnan(g)
        elif math.isinf(e):
            ok = g == e
        else:
            ok = math.isfinite(g) and abs(g - e) <= max(rtol * abs(e), atol)
        if not ok:
            errors.append(f"{where} index {list(_unravel(k, exp['shape']))}: got {g!r} "
                          f"(0x{int(got['values'][k]) & 0xFFFFFFFF:08x}), expected {e!r} "
                          f"(0x{exp['values'][k]:08x}); rtol {rtol:g}, atol {atol:g}")
    return errors


def compare(expected, got, scale=1.0):
    """All mismatches between EXPECTED items and printed items."""
    errors = []
    for exp, g in zip(expected, got):
        errors += compare_item(exp, g, scale)
    if len(got) < len(expected):
        nxt = expected[len(got)]
        errors.append(f"the output ends after {len(got)} of {len(expected)} items "
                      f"(missing from {_describe(nxt)} on)")
    elif len(got) > len(expected):
        errors.append(f"the output has {len(got)} items, {len(expected)} expected")
    return errors


def max_relative_error(expected, got):
    """Largest |g - e| / |e| over finite nonzero expected floats (for the summary)."""
    worst = 0.0
    for exp, g in zip(expected, got):
        if exp["dtype"] != "f32" or g["kind"] != "memref":
            continue
        for gb, eb in zip(g["values"], exp["values"]):
            e, v = bits_to_f32(eb), bits_to_f32(gb)
            if math.isfinite(e) and e != 0 and math.isfinite(v):
                worst = max(worst, abs(v - e) / abs(e))
    return worst


def tolerance_used(expected, got):
    """Largest |g - e| / max(rtol |e|, atol) over finite expected floats, and where."""
    worst, where = 0.0, "-"
    for exp, g in zip(expected, got):
        if exp["dtype"] != "f32" or g["kind"] != "memref" or g["shape"] != exp["shape"]:
            continue
        e_vals = [bits_to_f32(b) for b in exp["values"]]
        rtol = exp.get("rtol", DEFAULT_RTOL)
        finite = [abs(v) for v in e_vals if math.isfinite(v)]
        atol = exp.get("atol", ATOL_FRACTION * rtol * max([1.0] + finite))
        for k, (gb, e) in enumerate(zip(g["values"], e_vals)):
            v = bits_to_f32(gb)
            if math.isfinite(e) and math.isfinite(v):
                tol = max(rtol * abs(e), atol)
                used = abs(v - e) / tol if tol > 0 else (0.0 if v == e else math.inf)
                if used > worst:
                    worst = used
                    where = f"{_describe(exp)} {list(_unravel(k, exp['shape']))}"
    return worst, where


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    test_path, out_path = argv[1], argv[2]
    with open(test_path) as f:
        expected = parse_expected(f.read())
    with open(out_path) as f:
        got = parse_runner_output(f.read())
    if not expected:
        print(f"check_outputs: no EXPECTED lines in {test_path}", file=sys.stderr)
        return 1
    errors = compare(expected, got)
    if errors:
        print(f"check_outputs: {test_path}: {len(errors)} mismatching item(s)/value(s):")
        for e in errors[:MAX_REPORTED]:
            print("  " + e)
        if len(errors) > MAX_REPORTED:
            print(f"  ... and {len(errors) - MAX_REPORTED} more")
        return 1
    n_values = sum(len(e["values"]) for e in expected)
    steps = len({(e["name"].split(".")[0] if "." in e["name"] else "", e["step"])
                 for e in expected})
    used, where = tolerance_used(expected, got)
    print(f"check_outputs: OK: {len(expected)} items, {n_values} values, {steps} steps match "
          f"in {test_path} (max relative error {max_relative_error(expected, got):.3g}; "
          f"at most {used:.2g} of the tolerance used, at {where})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
