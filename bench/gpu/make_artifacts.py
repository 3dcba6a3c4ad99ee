#!/usr/bin/env python3
"""Inputs of bench/gpu/build.sh: the MLIR to compile and the check data.

    python3 bench/gpu/make_artifacts.py --out DIR [--no-across-ranks]

writes into DIR:

* kernels.mlir: destination-passing functions (`llvm.emit_c_interface`)
  - for every part of every CPU integration sequence
    (test/Integration/CPU/generate.py): `<case>_p<k>_forward/_backward`
    (training) or `<case>_p<k>_infer` (inference), with the part's shapes
    (dynamic dims stay dynamic), element type, windows, mask and
    hyper-parameters; and the training steps of ACROSS_RANKS_CASE once more
    with statistics across processes (`all_ranks`: the all-reduce on the
    GPU path, a copy in one process), as the case `<case>-all-ranks`;
  - for the benchmarks: `bench_<shape>_<dtype>_forward/_backward/_infer` at
    ViT-S (8x197x384) and BERT-base (8x512x768), f32 and bf16;
  - UN-folded Transformer blocks (`un-inference-pipeline`, the weights
    already prepared): `block_<kind>_b<batch>_folded_dps` for ViT-S
    (197 tokens) and BERT-base (128 tokens), batch 1 and 8, with the
    project's matmul kernels;
* blocks-<variant>.mlir: the same blocks for the other ways of running
  them (BLOCK_VARIANTS: cuBLASLt in f32, cuBLASLt with TF32, the bf16
  block on cuBLASLt), `block_<kind>_b<batch>_<variant>_folded_dps`; the
  first line names the un-cuda-pipeline options to compile the file with;
* blocks.c: a C call of each block (un_gpu_bench links it), with the check
  file it is compared with and the tolerance; check/blocks.txt, each
  block's argument element types and shapes; check/block_<key>.bin, the
  output (as f32) of the block compiled for the CPU on the inputs that
  un_gpu_bench makes (`fill`: a hash of the argument and element index,
  rounded to bf16 for bf16 arguments), for the batch-1 blocks;
* check/manifest.txt and check/<case>.p<k>.bin: what un_gpu_check runs and
  its inputs (see harness/un_gpu_check.c for the format);
* check/<case>.mlir: the CPU integration test files, whose `// EXPECTED:`
  lines (values of the spec's reference) check_outputs.py compares with
  what un_gpu_check prints; check/check_outputs.py.

Deterministic: the data come from the generator's seeded streams.
"""
import argparse
import dataclasses
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CPU_TESTS = ROOT / "test" / "Integration" / "CPU"
sys.path.insert(0, str(CPU_TESTS))
sys.path.insert(0, str(ROOT / "python"))

import generate as gen  # noqa: E402
from un_mlir import blocks, harness  # noqa: E402
from un_mlir.tools import un_tool  # noqa: E402

# ViT-S and BERT-base activations (2.4 and 12.6 MB in f32: inside an H100/H200
# L2 of 50 MB), and BERT-base at batch 128 (201 MB in f32, 101 MB in bf16:
# well above it, so the GB/s are HBM's).
BENCH_SHAPES = {"vits": (8, 197, 384), "bert": (8, 512, 768), "bert_b128": (128, 512, 768)}
BENCH_DTYPES = ("f32", "bf16")


def memref(dims, et):
    return "memref<" + "".join(f"{d}x" for d in dims) + f"{et}>"


def tensor(dims, et):
    return "tensor<" + "".join(f"{d}x" for d in dims) + f"{et}>"


def attrs(hparams, keys):
    return "{" + ", ".join(gen.fmt_attr(k, hparams[k]) for k in keys) + "}"


def training_functions(name, et, x_dims, c, mf, mb, mask_dims, hparams, all_ranks=False):
    """DPS forward and backward of one training configuration (with
    `all_ranks`: statistics over every process of the job)."""
    XM, XT = memref(x_dims, et), tensor(x_dims, et)
    GM, GT = memref([c], et), tensor([c], et)
    SM, ST = memref([c], "f32"), tensor([c], "f32")
    WFM, WFT = memref([mf, c], "f32"), tensor([mf, c], "f32")
    WBM, WBT = memref([mb, c], "f32"), tensor([mb, c], "f32")
    I2 = "memref<2xi64>"
    fwd_attrs = attrs(hparams, gen.FWD_ATTRS)
    bwd_attrs = attrs(hparams, gen.BWD_ATTRS)
    if all_ranks:
        fwd_attrs, bwd_attrs = (a[:-1] + ", all_ranks}" for a in (fwd_attrs, bwd_attrs))

    def to_tensor(v, m, t):
        return f"  %{v} = bufferization.to_tensor %{v}_m restrict : {m} to {t}\n"

    def store(v, dest, t, m):
        return (f"  bufferization.materialize_in_destination %{v} in restrict writable "
                f"%{dest} : ({t}, {m}) -> ()\n")

    ins = [("x", XM, XT), ("gamma", GM, GT), ("beta", GM, GT), ("rv", SM, ST),
           ("win", WFM, WFT)]
    mask = ""
    if mask_dims is not None:
        MM, MT = memref(mask_dims, "i1"), tensor(mask_dims, "i1")
        ins.append(("mask", MM, MT))
        mask = " mask %mask"
    args = [f"%{v}_m: {m}" for v, m, _ in ins[:5]] + [f"%scalars: {I2}"]
    if mask_dims is not None:
        args.append(f"%mask_m: {MM}")
    args += [f"%y_o: {XM}", f"%z_o: {XM}", f"%var_o: {SM}", f"%r_o: {SM}", f"%rv_o: {SM}",
             f"%win_o: {WFM}", f"%scalars_o: {I2}"]
    fwd = (f"func.func @{name}_forward({', '.join(args)}) "
           "attributes {llvm.emit_c_interface} {\n")
    fwd += "".join(to_tensor(v, m, t) for v, m, t in ins)
    fwd_in = [XT, GT, GT, ST, WFT, "i64", "i64"] + ([MT] if mask_dims is not None else [])
    fwd += ("  %c0 = arith.constant 0 : index\n  %c1 = arith.constant 1 : index\n"
            f"  %t = memref.load %scalars[%c0] : {I2}\n"
            f"  %skips = memref.load %scalars[%c1] : {I2}\n"
            "  %y, %z, %var, %r, %skip, %rv1, %win1, %skips1 = un.train_forward %x, %gamma, "
            f"%beta, %rv, %win, %t, %skips{mask} {fwd_attrs} : ({', '.join(fwd_in)}) -> "
            f"({XT}, {XT}, {ST}, {ST}, i1, {ST}, {WFT}, i64)\n")
    for v, dest, t, m in (("y", "y_o", XT, XM), ("z", "z_o", XT, XM), ("var", "var_o", ST, SM),
                          ("r", "r_o", ST, SM), ("rv1", "rv_o", ST, SM),
                          ("win1", "win_o", WFT, WFM)):
        fwd += store(v, dest, t, m)
    fwd += ("  %skip64 = arith.extui %skip : i1 to i64\n"
            f"  memref.store %skip64, %scalars_o[%c0] : {I2}\n"
            f"  memref.store %skips1, %scalars_o[%c1] : {I2}\n  return\n}}\n")

    bins = [("gy", XM, XT), ("z", XM, XT), ("var", SM, ST), ("r", SM, ST), ("gamma", GM, GT),
            ("ema", SM, ST), ("wgz", WBM, WBT)]
    args = [f"%{v}_m: {m}" for v, m, _ in bins] + [
        f"%scalars: {I2}", f"%gx_o: {XM}", f"%ggamma_o: {GM}", f"%gbeta_o: {GM}",
        f"%ema_o: {SM}", f"%wgz_o: {WBM}"]
    bwd = (f"func.func @{name}_backward({', '.join(args)}) "
           "attributes {llvm.emit_c_interface} {\n")
    bwd += "".join(to_tensor(v, m, t) for v, m, t in bins)
    bwd += ("  %c0 = arith.constant 0 : index\n  %c1 = arith.constant 1 : index\n"
            f"  %t = memref.load %scalars[%c0] : {I2}\n"
            f"  %skip64 = memref.load %scalars[%c1] : {I2}\n"
            "  %skip = arith.trunci %skip64 : i64 to i1\n"
            "  %gx, %ggamma, %gbeta, %ema1, %wgz1 = un.train_backward %gy, %z, %var, %r, "
            f"%skip, %gamma, %ema, %wgz, %t {bwd_attrs} : ({XT}, {XT}, {ST}, {ST}, i1, {GT}, "
            f"{ST}, {WBT}, i64) -> ({XT}, {GT}, {GT}, {ST}, {WBT})\n")
    for v, dest, t, m in (("gx", "gx_o", XT, XM), ("ggamma", "ggamma_o", GT, GM),
                          ("gbeta", "gbeta_o", GT, GM), ("ema1", "ema_o", ST, SM),
                          ("wgz1", "wgz_o", WBT, WBM)):
        bwd += store(v, dest, t, m)
    bwd += "  return\n}\n"
    return fwd + "\n" + bwd


def infer_function(name, et, x_dims, c, eps):
    XM, XT = memref(x_dims, et), tensor(x_dims, et)
    GM, GT = memref([c], et), tensor([c], et)
    SM, ST = memref([c], "f32"), tensor([c], "f32")
    attr = f" {{{gen.fmt_attr('eps', eps)}}}" if eps is not None else ""
    return (f"func.func @{name}_infer(%x_m: {XM}, %gamma_m: {GM}, %beta_m: {GM}, "
            f"%rv_m: {SM}, %y_o: {XM}) attributes {{llvm.emit_c_interface}} {{\n"
            f"  %x = bufferization.to_tensor %x_m restrict : {XM} to {XT}\n"
            f"  %gamma = bufferization.to_tensor %gamma_m restrict : {GM} to {GT}\n"
            f"  %beta = bufferization.to_tensor %beta_m restrict : {GM} to {GT}\n"
            f"  %rv = bufferization.to_tensor %rv_m restrict : {SM} to {ST}\n"
            f"  %y = un.infer %x, %gamma, %beta, %rv{attr} : ({XT}, {GT}, {GT}, {ST}) -> {XT}\n"
            f"  bufferization.materialize_in_destination %y in restrict writable %y_o : "
            f"({XT}, {XM}) -> ()\n  return\n}}\n")


def storage_bytes(a, dtype):
    """Little-endian bytes of `a` in the activation storage type."""
    a = np.asarray(a)
    if dtype == "f16":
        return np.asarray(a, np.float16).tobytes()
    if dtype == "bf16":
        bits = np.asarray(a, np.float32).view(np.uint32) >> 16
        return bits.astype(np.uint16).tobytes()
    return np.asarray(a, np.float32).tobytes()


def ident(name):
    return name.replace("-", "_")


# A case whose training steps also run with statistics across processes
# (`all_ranks`): in a job of one process the all-reduce is a copy (the
# runtime loads no NCCL), so its numbers are the case's own.
ACROSS_RANKS_CASE = "padding-mask"


def check_parts(out, across_ranks=True):
    """Functions, manifest and data of every CPU integration sequence (and,
    with `across_ranks`, of ACROSS_RANKS_CASE with `all_ranks`)."""
    check = out / "check"
    check.mkdir(parents=True, exist_ok=True)
    funcs, manifest = [], []
    cases = [(make(), False) for make in gen.CASES]
    if across_ranks:
        cases += [(case, True) for case, _ in cases if case.name == ACROSS_RANKS_CASE]
    for case, all_ranks in cases:
        file = case.name + ("-all-ranks" if all_ranks else "")
        manifest.append(f"file {file}.mlir")
        shutil.copy(CPU_TESTS / f"{case.name}.mlir", check / f"{file}.mlir")
        for k, p in enumerate(case.parts, 1):
            name = f"{ident(file)}_p{k}"
            data = bytearray()
            if isinstance(p, gen.Training):
                rank = p.xs[0].ndim
                x_dims = p.x_dims if p.x_dims is not None else list(p.xs[0].shape)
                c = p.c_dim if p.c_dim is not None else p.C
                mf = p.mf_dim if p.mf_dim is not None else p.window_fwd
                mb = p.mb_dim if p.mb_dim is not None else p.window_bwd
                mask_dims = x_dims[:-1] if p.masks is not None else None
                funcs.append(training_functions(name, p.dtype, x_dims, c, mf, mb, mask_dims,
                                                p.hparams, all_ranks=all_ranks))
                manifest.append(f"train {name} {p.dtype} {p.window_fwd} {p.window_bwd} {p.C} "
                                f"{len(p.xs)} {int(p.masks is not None)} {rank}")
                data += storage_bytes(p.gamma, p.dtype) + storage_bytes(p.beta, p.dtype)
                for i, (x, gy) in enumerate(zip(p.xs, p.gys)):
                    manifest.append("step " + " ".join(str(d) for d in x.shape))
                    data += storage_bytes(x, p.dtype) + storage_bytes(gy, p.dtype)
                    if p.masks is not None:
                        data += np.asarray(p.masks[i], np.uint8).tobytes()
            else:
                x_dims = p.x_dims if p.x_dims is not None else list(p.x.shape)
                c = p.c_dim if p.c_dim is not None else p.gamma.shape[0]
                funcs.append(infer_function(name, p.dtype, x_dims, c, p.eps))
                manifest.append(f"infer {name} {p.dtype} {p.x.ndim} "
                                + " ".join(str(d) for d in p.x.shape))
                data += (storage_bytes(p.x, p.dtype) + storage_bytes(p.gamma, p.dtype)
                         + storage_bytes(p.beta, p.dtype)
                         + np.asarray(p.running_var, np.float32).tobytes())
            (check / f"{name}.bin").write_bytes(bytes(data))
    (check / "manifest.txt").write_text("\n".join(manifest) + "\n")
    shutil.copy(CPU_TESTS / "check_outputs.py", check / "check_outputs.py")
    return funcs


def bench_functions():
    funcs = []
    hp = gen.hp()
    for shape_name, shape in BENCH_SHAPES.items():
        for dtype in BENCH_DTYPES:
            name = f"bench_{shape_name}_{dtype}"
            C = shape[-1]
            funcs.append(training_functions(name, dtype, list(shape), C, 4, 4, None, hp))
            funcs.append(infer_function(name, dtype, list(shape), C, None))
    return funcs


BLOCKS = {  # key: (kind, dims); the batch-1 blocks are checked by number
    "vit-b1": ("vit", blocks.VIT_S),
    "vit-b8": ("vit", blocks.Dims(batch=8)),
    "bert-b1": ("bert", blocks.BERT_BASE),
    "bert-b8": ("bert", blocks.Dims(batch=8, tokens=128, channels=768, heads=12, mlp=3072)),
}


def fill(argument, shape):
    """The inputs un_gpu_bench gives a block (harness/un_gpu_bench.c
    `fill`): element i of argument a is a hash of (a, i) mapped to
    [-1, 1), scaled by 0.1 for the weights (every argument but x)."""
    i = np.arange(int(np.prod(shape)), dtype=np.uint32)
    h = i * np.uint32(0x9E3779B1) + np.uint32((argument * 0x85EBCA77) & 0xFFFFFFFF)
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x2C1B3C6D)
    h ^= h >> np.uint32(12)
    h *= np.uint32(0x297A2D39)
    h ^= h >> np.uint32(15)
    u = (h >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -23) - np.float32(1.0)
    return (u * np.float32(1.0 if argument == 0 else 0.1)).reshape(shape)


def _function_text(text, name):
    """The text of `func.func @name` (printed without aliases)."""
    start = text.index(f"func.func @{name}(")
    end = text.index("\n  }\n", start) + len("\n  }\n")
    return text[start:end].replace("\n  ", "\n") + "\n"


# Ways of running the blocks: (key suffix, un-cuda-pipeline options,
# tolerance of the check: max error over max |y| against the CPU, element
# type of the block: blocks.Dims.dtype). TF32 rounds the matmuls' inputs to
# 10-bit mantissas; the bf16 block stores every activation in bf16 (8-bit
# mantissas), so where the GPU's and the CPU's f32 sums round to different
# bf16 values the difference carries through the block.
BLOCK_VARIANTS = [
    ("", "", 1e-3, "f32"),
    ("cublaslt", "matmul-library=cublaslt", 1e-3, "f32"),
    ("tf32", "matmul-library=cublaslt tf32=true", 1e-2, "f32"),
    ("bf16", "matmul-library=cublaslt", 3e-2, "bf16"),
]


def block_functions(out):
    """The folded blocks with the project's matmul kernels (returned, for
    kernels.mlir), the other variants' files, their C calls (blocks.c),
    shapes and expected outputs."""
    texts = {variant: [] for variant, *_ in BLOCK_VARIANTS}
    manifest, calls, table = [], [], []
    for key, (kind, dims) in BLOCKS.items():
        base = "block_" + key.replace("-", "_")
        expected = {}  # element type -> (folded text, function, its types)
        for variant, _, tolerance, dtype in BLOCK_VARIANTS:
            name = base + (f"_{variant}" if variant else "")
            proc = subprocess.run(
                [un_tool("un-opt"), "--un-inference-pipeline", "--mlir-print-local-scope"],
                input=blocks.block_mlir(kind, "un", dataclasses.replace(dims, dtype=dtype),
                                        name=name),
                capture_output=True, text=True, check=True)
            folded = proc.stdout
            fn = f"{name}_folded"
            _, arg_types, result_types = harness.signature(folded, fn)
            types = [harness.parse_tensor_type(t) for t in arg_types + result_types]
            texts[variant] += [_function_text(folded, fn),
                               harness.dps_wrapper(fn, arg_types, result_types)]
            full_key = key + (f"-{variant}" if variant else "")
            check = key if dtype == "f32" else f"{key}-{dtype}"
            expected.setdefault(check, (folded, fn, arg_types, result_types[0]))
            manifest.append(f"block {full_key} {len(types)}")
            manifest += [f"{et} {len(sh)} " + " ".join(map(str, sh)) for et, sh in types]
            params = ", ".join("void *" for _ in types)
            args = ", ".join(f"d[{i}]" for i in range(len(types)))
            calls.append(f"void _mlir_ciface_{fn}_dps({params});\n"
                         f"static void call_{name}(void **d) {{ _mlir_ciface_{fn}_dps({args}); }}\n")
            table.append(f'  {{"{full_key}", "{check}", {tolerance:g}, {len(types)}, '
                         f'call_{name}}},')
        if dims.batch == 1:  # variants of one element type compute the same block
            for check, (folded, fn, arg_types, result_type) in expected.items():
                text = _function_text(folded, fn) + harness.f32_interface(fn, arg_types, result_type)
                with tempfile.TemporaryDirectory() as tmp:
                    compiled = harness.compile_module(text, [f"{fn}_f32"],
                                                      pathlib.Path(tmp) / "b.so")
                    inputs = [fill(a, harness.parse_tensor_type(t)[1])
                              for a, t in enumerate(arg_types)]
                    (y,) = compiled[f"{fn}_f32"](*inputs)
                y.astype("<f4").tofile(out / "check" / f"block_{check}.bin")
    (out / "check" / "blocks.txt").write_text("\n".join(manifest) + "\n")
    (out / "blocks.c").write_text(
        "/* Generated by bench/gpu/make_artifacts.py: a call of each UN-folded block. */\n"
        '#include "blocks.h"\n\n' + "".join(calls)
        + "\nconst BlockCall un_block_calls[] = {\n" + "\n".join(table)
        + "\n  {0, 0, 0, 0, 0},\n};\n")
    for variant, options, *_ in BLOCK_VARIANTS:
        if variant:
            (out / f"blocks-{variant}.mlir").write_text(
                f"// options: {options}\n// Generated by bench/gpu/make_artifacts.py.\n\n"
                + "\n".join(texts[variant]))
    return texts[""]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-across-ranks", action="store_true",
                        help="leave out the case with statistics across processes (the "
                             "emulated harness has no all-reduce)")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    funcs = (check_parts(out, across_ranks=not args.no_across_ranks) + bench_functions()
             + block_functions(out))
    (out / "kernels.mlir").write_text(
        "// Generated by bench/gpu/make_artifacts.py.\n\n" + "\n".join(funcs))


if __name__ == "__main__":
    main()
