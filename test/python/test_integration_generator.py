"""The CPU integration tests (test/Integration/CPU): generator and output checker.

- The checked-in test files are what generate.py writes, so their data and
  expected values cannot drift from the numpy reference of the spec.
- check_outputs.py parses mlir-runner output and compares it as documented
  (tolerances, NaN/inf, shapes, integers, missing output).
"""

import importlib.util
import json
import math
import re
import struct
import subprocess
import sys

import pytest

from conftest import ROOT, UN_OPT

CPU = ROOT / "test" / "Integration" / "CPU"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, CPU / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


co = _load("check_outputs")

CHECKED_IN = sorted(CPU.glob("*.mlir"))


def bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


# ---------------------------------------------------------------- generator

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("cpu")
    subprocess.run([sys.executable, str(CPU / "generate.py"), "--out", str(out), "--quiet"],
                   check=True)
    return out


def _split(text):
    """(lines that are not EXPECTED, EXPECTED items)."""
    lines = [ln for ln in text.splitlines() if not ln.startswith(co.EXPECTED_PREFIX)]
    return lines, co.parse_expected(text)


def test_generator_writes_every_checked_in_file(generated):
    assert {p.name for p in generated.glob("*.mlir")} == {p.name for p in CHECKED_IN}
    assert len(CHECKED_IN) >= 10


@pytest.mark.parametrize("path", CHECKED_IN, ids=lambda p: p.stem)
def test_checked_in_file_is_what_the_generator_writes(generated, path):
    new = (generated / path.name).read_text()
    old = path.read_text()
    if new == old:
        return
    # The inputs and the IR must be identical. The expected values come from numpy's
    # float32 exp/log/sqrt, whose last bit may differ between numpy builds and CPUs
    # (SIMD kernels): there, accept differences far inside the test's tolerance.
    old_lines, old_items = _split(old)
    new_lines, new_items = _split(new)
    assert old_lines == new_lines, (
        f"{path.name} differs from what generate.py writes: re-run "
        "`python3 test/Integration/CPU/generate.py`")
    assert [(i["step"], i["name"], i["dtype"], i["shape"], i.get("rtol")) for i in old_items] \
        == [(i["step"], i["name"], i["dtype"], i["shape"], i.get("rtol")) for i in new_items]
    errors = co.compare(old_items, [{"kind": "scalar" if i["dtype"] == "i64" else "memref",
                                     "shape": i["shape"], "values": i["values"]}
                                    for i in new_items], scale=0.1)
    assert not errors, f"{path.name}: expected values drifted:\n" + "\n".join(errors[:10])


@pytest.mark.parametrize("path", CHECKED_IN, ids=lambda p: p.stem)
def test_checked_in_file_is_well_formed(path):
    text = path.read_text()
    assert len(text) < 200_000
    run = [ln for ln in text.splitlines() if ln.startswith("// RUN:")]
    assert run == [
        "// RUN: un-opt %s --un-cpu-pipeline | mlir-runner -e main -entry-point-result=void "
        "--shared-libs=%mlir_runner_utils,%mlir_c_runner_utils > %t.out",
        "// RUN: %python %S/check_outputs.py %s %t.out"]
    items = co.parse_expected(text)
    assert items
    # Every f32 item prints through printMemrefI32, every i64 one through printI64.
    n_mem = len(re.findall(r"call @printMemrefI32\(", text))
    n_int = len(re.findall(r"call @printI64\(", text))
    assert n_mem == sum(i["dtype"] == "f32" for i in items)
    assert n_int == sum(i["dtype"] == "i64" for i in items)
    # The expected values fed back as runner output pass the checker.
    assert co.compare(items, co.parse_runner_output(co.format_runner_output(items))) == []


@pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")
@pytest.mark.parametrize("path", CHECKED_IN, ids=lambda p: p.stem)
def test_checked_in_file_parses_and_verifies(path):
    r = subprocess.run([str(UN_OPT), str(path), "-o", "/dev/null"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------- check_outputs

RUNNER_OUTPUT = """\
Unranked Memref base@ = 0x55f5810ea5c0 rank = 2 offset = 0 sizes = [2, 2] strides = [2, 1] data = 
[[1065353216,    -1071644672], 
 [2143289344,    -8388608]]
7
Unranked Memref base@ = 0x55f581186500 rank = 1 offset = 0 sizes = [3] strides = [1] data = 
[0,  1008981770,  1120403456]
"""  # noqa: W291 (the runner ends header lines with a space)


def _expected(values, rtol=None, shape=None, name="v"):
    it = {"step": 1, "name": name, "dtype": "f32", "shape": shape or [len(values)],
          "values": [bits(v) if not isinstance(v, str) else int(v, 16) for v in values]}
    if rtol is not None:
        it["rtol"] = rtol
    return it


def _file(tmp_path, items, output):
    test = tmp_path / "t.mlir"
    test.write_text("// RUN: true\n" + "".join(
        co.EXPECTED_PREFIX + json.dumps(i) + "\n" for i in items))
    out = tmp_path / "t.out"
    out.write_text(output)
    return str(test), str(out)


def test_parse_runner_output():
    items = co.parse_runner_output(RUNNER_OUTPUT)
    assert [i["kind"] for i in items] == ["memref", "scalar", "memref"]
    assert items[0]["shape"] == [2, 2]
    vals = [co.bits_to_f32(b) for b in items[0]["values"]]
    assert vals[0] == 1.0 and vals[1] == -2.5 and math.isnan(vals[2]) and vals[3] == -math.inf
    assert items[1]["values"] == [7]
    assert [co.bits_to_f32(b) for b in items[2]["values"]] == pytest.approx([0, 0.01, 100])


def test_parse_rank0_and_errors():
    out = ("Unranked Memref base@ = 0x1 rank = 0 offset = 0 sizes = [] strides = [] data = \n"
           "[1065353216]\n")
    assert co.parse_runner_output(out) == [{"kind": "memref", "shape": [], "values": [bits(1.0)]}]
    with pytest.raises(co.FormatError):  # value count does not match the sizes
        co.parse_runner_output(RUNNER_OUTPUT.replace("sizes = [3]", "sizes = [4]"))
    with pytest.raises(co.FormatError):
        co.parse_runner_output("Segmentation fault\n")
    with pytest.raises(co.FormatError):  # truncated data
        co.parse_runner_output(RUNNER_OUTPUT[:-3])


def _good_items():
    return [_expected([1.0, -2.5, "7fc00000", "ff800000"], shape=[2, 2], name="a"),
            {"step": 1, "name": "skips", "dtype": "i64", "shape": [], "values": [7]},
            _expected([0.0, 0.01, 100.0], name="b")]


def test_check_passes(tmp_path, capsys):
    assert co.main(["x", *_file(tmp_path, _good_items(), RUNNER_OUTPUT)]) == 0
    assert "OK: 3 items" in capsys.readouterr().out


def test_tolerances():
    # rtol 1e-5 relative, with an absolute floor of 1e-6 * max(1, max|e|) of the tensor.
    exp = _expected([100.0, 1.0, 0.0])

    def got(vals):
        return {"kind": "memref", "shape": [3], "values": [bits(v) for v in vals]}

    assert co.compare_item(exp, got([100.0009, 1.0, 0.0])) == []
    assert co.compare_item(exp, got([100.0011, 1.0, 0.0]))
    assert co.compare_item(exp, got([100.0, 1.0, 9.9e-5])) == []  # floor 1e-6 * 100
    assert co.compare_item(exp, got([100.0, 1.0, 1.01e-4]))
    assert co.compare_item(exp, got([100.0, 1.00002, 0.0])) == []  # 2e-5 < floor 1e-4
    # ... but not when the tensor's largest value is small (floor 1e-6)
    small = {"kind": "memref", "shape": [2], "values": [bits(1.00002), bits(0.5)]}
    assert co.compare_item(_expected([1.0, 0.5]), small)
    # a per-item rtol (f16 items: 1e-3)
    exp16 = _expected([1.0, 2.0], rtol=1e-3)
    g16 = {"kind": "memref", "shape": [2], "values": [bits(1.0009765625), bits(2.0)]}
    assert co.compare_item(exp16, g16) == []
    g16["values"][1] = bits(2.0 + 2 * 2 ** -9)
    assert co.compare_item(exp16, g16)


def test_nan_and_inf_handling():
    exp = _expected(["7fc00000", "7f800000", "ff800000", 1.0])
    ok = {"kind": "memref", "shape": [4],
          "values": [int("ffc00001", 16), int("7f800000", 16), int("ff800000", 16), bits(1.0)]}
    assert co.compare_item(exp, ok) == []  # any NaN matches NaN
    for k, bad in ((0, bits(0.0)), (1, int("ff800000", 16)), (2, bits(-3.4e38)),
                   (3, int("7fc00000", 16)), (3, int("7f800000", 16))):
        g = dict(ok, values=list(ok["values"]))
        g["values"][k] = bad
        errs = co.compare_item(exp, g)
        assert len(errs) == 1 and f"index [{k}]" in errs[0]


def test_check_fails_with_details(tmp_path, capsys):
    items = _good_items()
    items[2]["values"][2] = bits(100.01)  # 1e-4 relative off
    assert co.main(["x", *_file(tmp_path, items, RUNNER_OUTPUT)]) == 1
    out = capsys.readouterr().out
    assert "step 1 b index [2]: got 100.0" in out and "expected 100.01" in out


def test_check_fails_on_int_shape_and_missing_output(tmp_path):
    items = _good_items()
    items[1]["values"] = [8]
    assert co.main(["x", *_file(tmp_path, items, RUNNER_OUTPUT)]) == 1
    items = _good_items()
    items[0]["shape"] = [4]
    errs = co.compare(items, co.parse_runner_output(RUNNER_OUTPUT))
    assert errs and "shape" in errs[0]
    # the runner crashed after the first item
    truncated = "\n".join(RUNNER_OUTPUT.splitlines()[:3]) + "\n"
    errs = co.compare(_good_items(), co.parse_runner_output(truncated))
    assert errs == ["the output ends after 1 of 3 items (missing from step 1 skips on)"]
    # an i64 where a tensor is expected and the reverse
    errs = co.compare(_good_items()[1:], co.parse_runner_output(RUNNER_OUTPUT))
    assert len(errs) >= 2
    assert co.main(["x", *_file(tmp_path, _good_items(), "")]) == 1


def test_format_runner_output_round_trips():
    items = _good_items()
    assert co.compare(items, co.parse_runner_output(co.format_runner_output(items))) == []


# ---------------------------------------------------------------- the cases' power

# Plausible misreadings of the spec, as edits of the numpy reference. Each must change
# the printed values of at least one case, or the cases would let that bug through.
# (Known blind spot: computing y from the f16-rounded z instead of the f32 z moves y by
# less than the f16 tolerance.)
MUTATIONS = [
    ("s2 after the window update", "s = np.sqrt(win).reshape(-1)",
     "_w = win.copy(); _w[t % Mf] = psi; s = np.sqrt(_w).reshape(-1)"),
    ("s2 biased", "/ ct(n - 1) if n > 1", "/ ct(n) if n > 1"),
    ("filtration from t > W", "if outlier_filtration and t >= W:",
     "if outlier_filtration and t > W:"),
    ("filtration before W", "if outlier_filtration and t >= W:", "if outlier_filtration:"),
    ("outlier test >=", "am - gm > s2 * ct(Mf)", "am - gm >= s2 * ct(Mf)"),
    ("outlier test without * Mf", "am - gm > s2 * ct(Mf)", "am - gm > s2"),
    ("outlier test on all channels", "bool(np.any(am - gm > s2 * ct(Mf)))",
     "bool(np.all(am - gm > s2 * ct(Mf)))"),
    ("no slot reset on outlier", "win[slot] = rv", "pass"),
    ("skips not counted", "skips_new += 1", "pass"),
    ("no skip for Mf <= 1", "skip = Mf <= 1", "skip = False"),
    ("var: t < Mf", "if t <= Mf or t < W or skip:", "if t < Mf or t < W or skip:"),
    ("var: t <= W", "if t <= Mf or t < W or skip:", "if t <= Mf or t <= W or skip:"),
    ("var: W ignored", "if t <= Mf or t < W or skip:", "if t <= Mf or skip:"),
    ("var: arithmetic mean", "        var = _geomean(win)", "        var = np.mean(win, axis=0)"),
    ("forward slot (t - 1) mod Mf", "    slot = t % Mf", "    slot = (t - 1) % Mf"),
    ("psi over padded tokens too", "kept = x2d[keep]", "kept = x2d"),
    ("r: W ignored", "if t <= max(r_warmup, W) or skip:", "if t <= r_warmup or skip:"),
    ("r: t < max", "if t <= max(r_warmup, W) or skip:", "if t < max(r_warmup, W) or skip:"),
    ("r: updated running_var", "r = np.sqrt(var + eps) / np.sqrt(rv + eps)",
     "r = np.sqrt(var + eps) / np.sqrt(m * rv + (ct(1) - m) * var + eps)"),
    ("r: not clamped", "r = np.clip(r, ct(1) / ct(r_max), ct(r_max))", "r = r"),
    ("r: clamped above only", "r = np.clip(r, ct(1) / ct(r_max), ct(r_max))",
     "r = np.minimum(r, ct(r_max))"),
    ("z: eps outside the sqrt", "z = xs / np.sqrt(var + eps)", "z = xs / (np.sqrt(var) + eps)"),
    ("running_var: momentum swapped", "rv_new = m * rv + (ct(1) - m) * var",
     "rv_new = (ct(1) - m) * rv + m * var"),
    ("g without r", "g = gys * gamma * r", "g = gys * gamma"),
    ("gz: a sum", "gz = np.sum(g2d * z2d, axis=0) / ct(g2d.shape[0])",
     "gz = np.sum(g2d * z2d, axis=0)"),
    ("win_gz: gz even on skip", "win[slot] = ema if skip else gz", "win[slot] = gz"),
    ("backward slot (t - 1) mod Mb", "    slot = t % Mb", "    slot = (t - 1) % Mb"),
    ("mu: t < Mb", "mu = gz if (t <= Mb or t < W or skip)", "mu = gz if (t < Mb or t < W or skip)"),
    ("mu: W ignored", "mu = gz if (t <= Mb or t < W or skip)", "mu = gz if (t <= Mb or skip)"),
    ("ema_gz: momentum swapped", "ema_new = m * ema + (ct(1) - m) * mu",
     "ema_new = (ct(1) - m) * ema + m * mu"),
    ("h: old ema_gz", "h = g - (mu if skip else ema_new) * zs", "h = g - (mu if skip else ema) * zs"),
    ("h: ema_gz on skip", "h = g - (mu if skip else ema_new) * zs", "h = g - ema_new * zs"),
    ("gx: eps outside the sqrt", "gx = h / np.sqrt(var + eps)", "gx = h / (np.sqrt(var) + eps)"),
    ("ggamma without r", "ggamma = np.sum(gy2d * r * z2d, axis=0)",
     "ggamma = np.sum(gy2d * z2d, axis=0)"),
    ("gbeta times r", "gbeta = np.sum(gy2d, axis=0)", "gbeta = np.sum(gy2d * r, axis=0)"),
    ("infer without eps", "np.sqrt(_state(running_var, ct) + ct(eps))",
     "np.sqrt(_state(running_var, ct))"),
]


@pytest.fixture(scope="module")
def cases():
    gen = _load("generate")
    made = [make() for make in gen.CASES]
    expected = {c.name: co.parse_expected((CPU / f"{c.name}.mlir").read_text()) for c in made}
    return gen, made, expected


@pytest.mark.parametrize("name,old,new", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_cases_detect_spec_misreading(cases, name, old, new):
    import types
    import warnings

    import numpy as np

    gen, made, expected = cases
    src = (ROOT / "python" / "un_mlir" / "reference.py").read_text()
    assert old in src, f"reference.py changed: update the mutation {name!r}"
    mutant = types.ModuleType("reference_mutant")
    exec(compile(src.replace(old, new), "reference_mutant", "exec"), mutant.__dict__)
    orig, gen.ref = gen.ref, mutant
    try:
        for case in made:
            items = []
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for idx, p in enumerate(case.parts, 1):
                        if isinstance(p, gen.Training):
                            items += gen.expected_items(p, gen.reference_steps(p))
                        else:
                            items.append(gen.infer_item(p, idx, gen.reference_infer(p)))
            except Exception:  # the mutant crashes: detected
                return
            if co.compare(expected[case.name], gen.as_got(items)):
                return
    finally:
        gen.ref = orig
    pytest.fail(f"no integration case notices the misreading {name!r}")
