"""Structured mutation fuzzing of un-opt: every pass and pipeline on mutated
`un` IR.

Seeds are the lit inputs under test/ that use `un` ops (split at
`// -----`). Each mutant changes one to three things the verifiers must
judge: a dimension of a tensor/memref type (to 0, 1, ?, a large size or
another dimension), an element type, a numeric attribute (0, -1, NaN,
infinities, huge), an operand dropped from an op (with its type), or two
SSA operands swapped. A mutant that un-opt rejects with a diagnostic is
fine. Then each pass and pipeline below runs on the mutants that parse and
verify; a failure is
  - a crash (a signal, or an exit status other than 0 and 1), or
  - "invalid output after success": the pass succeeded but its output does
    not parse and verify again.
Each failure is written to --out as a reproducer (input + command).

    python3 test/fuzz/fuzz_un_opt.py --runs 300 --seed 1        # CI: bounded
    python3 test/fuzz/fuzz_un_opt.py --seconds 3600 --seed 7    # longer run

Exit status 1 when any failure was found.
"""
import argparse
import pathlib
import random
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from un_mlir.tools import un_tool  # noqa: E402

PASSES = [
    "--canonicalize", "--un-decompose", "--convert-un-to-linalg", "--un-raise-norms",
    "--un-fold-into-linear", "--un-fold-into-linear=hoist-weight-prep=true pack-weights=true",
    "--un-to-linalg-pipeline", "--un-inference-pipeline", "--un-cpu-pipeline",
    "--un-cuda-kernels-pipeline", "--un-gpu-emulation-pipeline", "--convert-un-to-mpi",
    "--un-gpu-collectives", "--un-cuda-kernels-pipeline=matmul-library=cublaslt",
]
TIMEOUT = 60
TYPE = re.compile(r"\b(tensor|memref)<([^<>]*?)>")
NUMBER_ATTR = re.compile(r"(\b[a-z_]+ = )(-?[0-9][0-9.e+-]*)(\s*:\s*[a-z0-9]+)?")
ELEMENT_TYPES = ["f32", "f16", "bf16", "f64", "i32", "i1"]


def seeds():
    cases = []
    for path in sorted(ROOT.glob("test/**/*.mlir")):
        text = path.read_text()
        if not re.search(r"\bun\.[a-z_]+\b", text):
            continue
        for case in text.split("// -----"):
            body = "\n".join(line for line in case.splitlines()
                             if not line.lstrip().startswith("//"))
            if re.search(r"\bun\.[a-z_]+\b", body) and "expected-error" not in case:
                cases.append((path.relative_to(ROOT), body))
    return cases


def mutate_dim(text, rng):
    matches = [m for m in TYPE.finditer(text) if "x" in m.group(2)]
    if not matches:
        return text
    m = rng.choice(matches)
    dims = m.group(2).split("x")
    i = rng.randrange(len(dims) - 1)  # the last part is the element type
    dims[i] = rng.choice(["0", "1", "?", "3", "1024", rng.choice(dims[:-1])])
    return _replace_type(text, m, "x".join(dims), rng)


def mutate_element_type(text, rng):
    matches = list(TYPE.finditer(text))
    if not matches:
        return text
    m = rng.choice(matches)
    parts = m.group(2).split("x")
    parts[-1] = re.sub(r"^[a-z0-9]+", rng.choice(ELEMENT_TYPES), parts[-1])
    return _replace_type(text, m, "x".join(parts), rng)


def _replace_type(text, match, inner, rng):
    """The type of `match` with `inner` in its <>: everywhere it occurs
    (mostly: the IR stays consistent, so the verifiers and passes see
    unusual but well-typed IR), or just there."""
    if rng.random() < 0.75:
        old = match.group(0)
        return text.replace(old, f"{match.group(1)}<{inner}>")
    return text[:match.start(2)] + inner + text[match.end(2):]


def mutate_attribute(text, rng):
    matches = list(NUMBER_ATTR.finditer(text))
    if not matches:
        return text
    m = rng.choice(matches)
    suffix = m.group(3) or ""
    value = rng.choice(["0", "-1", "1", "2147483648", "0x7FC00000", "0x7F800000",
                        "0xFF800000", "1.0e+30", "-0.5"])
    if value.startswith("0x") and "f" not in suffix:
        value = "-3"
    return text[:m.start()] + m.group(1) + value + suffix + text[m.end():]


def mutate_operands(text, rng):
    lines = text.splitlines()
    candidates = [i for i, line in enumerate(lines) if re.search(r"\bun\.[a-z_]+\b.*%.*,", line)]
    if not candidates:
        return text
    i = rng.choice(candidates)
    names = re.findall(r"%[\w.]+", lines[i].split("=", 1)[-1])
    if len(names) < 2:
        return text
    if rng.random() < 0.5:  # swap two operands
        a, b = rng.sample(names, 2)
        lines[i] = lines[i].replace(a, "\0").replace(b, a).replace("\0", b)
    else:  # drop one operand and one type of the operand type list
        name = rng.choice(names)
        lines[i] = re.sub(rf",\s*{re.escape(name)}\b|{re.escape(name)}\s*,\s*", "", lines[i],
                          count=1)
        types = re.search(r":\s*\(?([^()]*?)\)?\s*(->|$)", lines[i])
        if types and "," in types.group(1):
            parts = [t.strip() for t in re.split(r",\s*(?![^<]*>)", types.group(1))]
            parts.pop(rng.randrange(len(parts)))
            lines[i] = lines[i][:types.start(1)] + ", ".join(parts) + lines[i][types.end(1):]
    return "\n".join(lines)


def mutate_all_ranks(text, rng):
    """Statistics across processes on one op that takes them (a collective)."""
    ops = r"\bun\.(train_forward|train_backward|quadratic_mean|grad_stats)\b"
    lines = text.splitlines()
    candidates = [i for i, line in enumerate(lines)
                  if re.search(ops, line) and "all_ranks" not in line and " : (" in line]
    if not candidates:
        return text
    i = rng.choice(candidates)
    at = lines[i].rfind(" : (")  # the op's types follow its attributes
    head, tail = lines[i][:at].rstrip(), lines[i][at:]
    head = head[:-1] + ", all_ranks}" if head.endswith("}") else head + " {all_ranks}"
    lines[i] = head + tail
    return "\n".join(lines)


MUTATIONS = [mutate_dim, mutate_dim, mutate_element_type, mutate_attribute, mutate_operands,
             mutate_all_ranks]


def run(args, text):
    try:
        proc = subprocess.run([un_tool("un-opt"), *args], input=text, capture_output=True,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    if proc.returncode not in (0, 1):
        return f"crash (exit {proc.returncode})", proc.stderr[-2000:]
    return ("ok" if proc.returncode == 0 else "rejected"), proc.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=0, help="mutants to try (0: no limit)")
    parser.add_argument("--seconds", type=float, default=0, help="time limit (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("fuzz-failures"))
    args = parser.parse_args()
    if not args.runs and not args.seconds:
        parser.error("give --runs or --seconds")
    rng = random.Random(args.seed)
    corpus = seeds()
    start, failures, tried, valid = time.time(), 0, 0, 0
    while (not args.runs or tried < args.runs) and \
            (not args.seconds or time.time() - start < args.seconds):
        source, text = rng.choice(corpus)
        for _ in range(rng.randint(1, 3)):
            text = rng.choice(MUTATIONS)(text, rng)
        tried += 1
        status, detail = run(["-o", "/dev/null"], text)
        problems = []
        if status.startswith(("crash", "timeout")):
            problems.append((["(parse and verify)"], status, detail))
        elif status == "ok":
            valid += 1
            for flags in PASSES:
                status, out = run([flags], text)
                if status.startswith(("crash", "timeout")):
                    problems.append(([flags], status, out))
                elif status == "ok":
                    again, detail = run(["-o", "/dev/null"], out)
                    if again != "ok":
                        problems.append(([flags], "invalid output after success", detail))
        for flags, what, detail in problems:
            failures += 1
            args.out.mkdir(parents=True, exist_ok=True)
            case = args.out / f"failure-{failures}.mlir"
            case.write_text(f"// from {source}; un-opt {' '.join(flags)}: {what}\n{text}\n")
            print(f"FAIL {case}: un-opt {' '.join(flags)}: {what}\n{detail.strip()[-600:]}\n",
                  flush=True)
    print(f"{tried} mutants ({valid} valid), {len(PASSES)} passes each, "
          f"{failures} failure(s), {time.time() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
