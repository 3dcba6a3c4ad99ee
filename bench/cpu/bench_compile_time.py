"""Compile time of a whole encoder: CPU seconds of each step that turns
`blocks.encoder_mlir` (N layers, UN, weights as arguments) into an object
file, as un_mlir.aot does it: un-opt (--un-inference-pipeline{pack-weights=true}, then
--un-cpu-pipeline), un-translate (bitcode), opt -O3, llc -O3 (-mcpu=native).

CPU time of the child processes (user + system), so time spent waiting
for a core on a shared machine does not count; the best of `--repeat` runs
is printed (interference only adds time).

Usage: python3 bench/cpu/bench_compile_time.py [--kind bert|vit] [--layers 1,12] [--repeat 3]
"""
import argparse
import pathlib
import resource
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "bench" / "cpu"))
from common import cpu_description  # noqa: E402
from un_mlir import aot, blocks  # noqa: E402
from un_mlir.tools import llvm_tool, un_tool  # noqa: E402

STEPS = ("un-opt", "un-translate", "opt", "llc")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compile_once(text, obj):
    """{step: CPU seconds} for one compilation of `text` into `obj`."""
    target = [f"-mtriple={aot.host_triple()}", "-mcpu=native"]
    commands = [
        [un_tool("un-opt"), "--pass-pipeline=builtin.module(un-inference-pipeline{pack-weights=true},un-cpu-pipeline)"],
        [un_tool("un-translate"), "--mlir-to-llvmbc"],
        [llvm_tool("opt"), "-O3", *target],
        [llvm_tool("llc"), "-O3", *target, "-filetype=obj", "-o", str(obj)],
    ]
    data, seconds = text.encode(), {}
    for step, command in zip(STEPS, commands):
        start = children_cpu()
        data = aot._run(command, data)
        seconds[step] = children_cpu() - start
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="bert", choices=("bert", "vit"))
    parser.add_argument("--layers", default="1,12")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dims = blocks.BERT_BASE if args.kind == "bert" else blocks.VIT_S
    print(cpu_description())
    print(f"{args.kind} encoder, UN, f32; CPU seconds of each step, best of {args.repeat}")
    print(f"{'layers':>6s} " + " ".join(f"{s:>14s}" for s in STEPS) + f" {'total':>8s}")
    with tempfile.TemporaryDirectory() as tmp:
        for layers in (int(n) for n in args.layers.split(",")):
            text = blocks.encoder_mlir(args.kind, "un", dims, layers)
            runs = [compile_once(text, pathlib.Path(tmp) / "model.o") for _ in range(args.repeat)]
            best = min(runs, key=lambda r: sum(r.values()))
            print(f"{layers:>6d} " + " ".join(f"{best[s]:>13.2f}s" for s in STEPS)
                  + f" {sum(best.values()):>7.2f}s")


if __name__ == "__main__":
    main()
