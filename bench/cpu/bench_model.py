"""CPU benchmark of Transformer encoder blocks at inference, f32: un-mlir's
compiled UN-folded blocks against the LayerNorm blocks on the runtimes a
user would pick, measured side by side in interleaved rounds of one run.

Blocks (python/un_mlir/blocks.py, the same weights for every contender):
  vit      pre-norm ViT-S block, 1x197x384, 6 heads, MLP 1536
  bert128  post-norm BERT-base layer, 1x128x768, 12 heads, MLP 3072
  bert512  the same at 512 tokens
(`--batch 8` multiplies the batch; `--layers 12` chains 12 blocks, each with
its own weights). Weights are drawn by blocks.example_inputs; UN's running
variances are those a trained model holds (calibrate_running_var).

Contenders:
  un-mlir UN-folded    the block with UN, compiled by un-opt
                       (--un-inference-pipeline, then --un-cpu-pipeline, AOT,
                       -O3, -mcpu=native): UN folded into the neighbouring
                       Linears, weights prepared once
                       (@<block>_prepare_weights), every call runs the hot
                       path (@<block>_folded), once per layer, as a deployed
                       model does. Single-threaded.
  un-mlir UN-folded, OpenMP
                       (all-thread tables only) the same compiled with
                       un-cpu-pipeline{threads=true}: parallel loops through
                       LLVM's OpenMP runtime (libomp), on all cores.
  PyTorch eager LN     a torch.nn module as timm / Hugging Face write it
                       (nn.LayerNorm, nn.Linear, nn.GELU("tanh"),
                       F.scaled_dot_product_attention), torch.inference_mode
  torch.compile LN     torch.compile of that module (default mode), compiled
                       before timing for each thread count
  ORT LN               that module exported to ONNX (TorchScript exporter,
                       else the dynamo exporter), onnxruntime
                       CPUExecutionProvider, ORT_ENABLE_ALL
  IREE LN              that ONNX file through iree-import-onnx and
                       iree-compile (llvm-cpu, host CPU); local-sync driver
                       at 1 thread (it runs on the caller's thread),
                       local-task with N task workers at N threads. Measured
                       only where iree-base-compiler / iree-base-runtime are
                       installed (bench/requirements.txt).
  un-mlir, compared build
                       (with --compare-build DIR, 1-thread tables) the UN
                       block compiled by DIR's un-opt, a build of another
                       commit: before and after a change in the same rounds.

Correctness before timing: the un-mlir output against the same model with
UN in eager PyTorch (un_mlir.torch.UnifiedNorm in eval mode: x / sqrt(rv +
eps) * g + beta), every LN peer against PyTorch eager LN, with
harness.assert_close at rtol 1e-4. A contender that fails its check, or
that could not be built, is reported and not timed.

Timing: 1-thread tables (torch.set_num_threads(1), ORT 1 intra/inter-op
thread) use the CPU time of the calling thread, so time descheduled on a
shared machine does not count; every contender is checked to do its work on
the calling thread first. All-thread tables (os.cpu_count() threads) use
wall time; the single-threaded un-mlir build is there too, at 1 thread,
beside its OpenMP build. Rounds alternate direction; every timing is
readied by `settle` (with several threads: a pause for the previous
contender's busy-waiting workers to sleep, then one untimed call). min and
median over the rounds; the ratios use the min.

Usage:
  python3 bench/cpu/bench_model.py [--rounds 7] [--blocks vit,bert128,bert512]
      [--layers 1|12] [--batch 1|8] [--threads 1|all|both] [--skip-compile]
      [--compare-build DIR]
"""
import argparse
import contextlib
import dataclasses
import gc
import importlib.metadata
import io
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "bench" / "cpu"))
sys.path.insert(0, str(ROOT / "bench"))
from common import cpu_description, interleaved, summary, time_call, un_build  # noqa: E402
from torch_encoder import EncoderBlock  # noqa: E402
from un_mlir import aot, blocks, harness  # noqa: E402
from un_mlir.torch import UnifiedNorm  # noqa: E402

CONFIGS = {
    "vit": ("vit", blocks.VIT_S),
    "bert128": ("bert", blocks.BERT_BASE),
    "bert512": ("bert", dataclasses.replace(blocks.BERT_BASE, tokens=512)),
}
RTOL = 1e-4
TARGET_S = 0.25     # seconds per timing of the slowest contender
SETTLE_S = 0.3      # pause before each multi-thread timing (settle)
ONNX_OPSET = 17     # LayerNormalization is an op from 17 on

UN_MLIR = "un-mlir UN-folded"
UN_MLIR_OMP = "un-mlir UN-folded, OpenMP"
UN_MLIR_COMPARED = "un-mlir, compared build"
# Folding, with the matmul weights prepared in the panels the CPU kernels read.
INFERENCE_PIPELINE = "un-inference-pipeline{pack-weights=true}"
UN_PIPELINES = {UN_MLIR: "un-cpu-pipeline", UN_MLIR_OMP: ["un-cpu-pipeline{threads=true}"],
                UN_MLIR_COMPARED: "un-cpu-pipeline"}
EAGER = "PyTorch eager LN"
COMPILE = "torch.compile LN"
ORT = "ORT LN"
IREE = "IREE LN"


# ------------------------------------------------------------- parameters

def layer_parameters(kind, d, layers, seed=0):
    """[{name: array}] of the UN block's arguments, one dict per layer, each
    layer with its own draw (blocks.example_inputs), `x` being layer 0's,
    and the running variances calibrated (calibrate_running_var). The LN
    blocks use the same arrays, without `rv*`."""
    params = []
    for layer in range(layers):
        rng = np.random.default_rng(seed + layer)
        arrays = blocks.example_inputs(kind, "un", d, rng)
        params.append({n: a for (n, _), a in zip(blocks.parameters(kind, "un", d), arrays)})
    calibrate_running_var(kind, d, params)
    return params


@torch.no_grad()
def calibrate_running_var(kind, d, params):
    """Sets every `rv*` to what a trained model holds: the mean square per
    channel of that norm's input (UN's forward statistic) on `x`. With
    random running variances instead the activations grow layer after layer
    (tenfold and more over 12 layers), softmax saturates, and the chained
    model amplifies float32 rounding past any tolerance."""
    model = torch_model(kind, "un", d, params)

    def set_running_var(norm, args):
        x = args[0].double()
        norm.running_var.copy_((x * x).mean(dim=tuple(range(x.dim() - 1))))

    norms = [m for m in model.modules() if isinstance(m, UnifiedNorm)]
    hooks = [m.register_forward_pre_hook(set_running_var) for m in norms]
    model(torch.from_numpy(params[0]["x"]))
    for h in hooks:
        h.remove()
    for p, block in zip(params, model):
        for i, norm in ((1, block.norm1), (2, block.norm2)):
            p[f"rv{i}"] = norm.running_var.numpy().astype(np.float32).copy()


# ----------------------------------------------------------- torch models

def encoder_block(kind, norm, d):
    """The block of blocks.block_mlir(kind, norm), with nn.LayerNorm ("ln")
    or UnifiedNorm ("un")."""
    make = {"ln": lambda C: nn.LayerNorm(C, eps=d.eps),
            "un": lambda C: UnifiedNorm(C, eps=d.eps)}[norm]
    return EncoderBlock(kind, d, make)


def _copy_linear(linear, w, b):
    """nn.Linear computes x @ weight.T + bias; blocks' weights are [K, N]."""
    linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
    linear.bias.copy_(torch.from_numpy(b))


@torch.no_grad()
def load_block(block, p):
    """Copies one layer's arrays (layer_parameters) into an EncoderBlock."""
    attn = block.attn
    if attn.fused_qkv:
        _copy_linear(attn.qkv, np.concatenate([p["wq"], p["wk"], p["wv"]], axis=1),
                     np.concatenate([p["bq"], p["bk"], p["bv"]]))
    else:
        for lin, s in ((attn.query, "q"), (attn.key, "k"), (attn.value, "v")):
            _copy_linear(lin, p[f"w{s}"], p[f"b{s}"])
    _copy_linear(attn.proj, p["wo"], p["bo"])
    _copy_linear(block.mlp.fc1, p["w1"], p["b1"])
    _copy_linear(block.mlp.fc2, p["w2"], p["b2"])
    for i, norm in ((1, block.norm1), (2, block.norm2)):
        norm.weight.copy_(torch.from_numpy(p[f"g{i}"]))
        norm.bias.copy_(torch.from_numpy(p[f"beta{i}"]))
        if isinstance(norm, UnifiedNorm):
            norm.running_var.copy_(torch.from_numpy(p[f"rv{i}"]))


def torch_model(kind, norm, d, params):
    """nn.Sequential of one EncoderBlock per layer, in eval mode, f32."""
    model = nn.Sequential(*(encoder_block(kind, norm, d) for _ in params))
    for block, p in zip(model, params):
        load_block(block, p)
    return model.eval()


# ---------------------------------------------------------------- un-mlir

class UnMlirModel:
    """The compiled UN-folded block: weights prepared once per layer, then
    each call runs the hot function once per layer, chaining activations
    through two preallocated buffers."""

    def __init__(self, kind, d, params, library_path, pipeline="un-cpu-pipeline"):
        name = f"{kind}_block"
        text = blocks.block_mlir(kind, "un", d, name=name)
        folded_text = aot.run_un_opt(text, [INFERENCE_PIPELINE])
        fns = harness.compile_module(folded_text, [f"{name}_prepare_weights", f"{name}_folded"],
                                     library_path, pipeline)
        self.hot = fns[f"{name}_folded"]
        prep_args, operands = harness.hoisted_calls(folded_text, name)
        if ("arg", 0) not in operands:
            raise RuntimeError(f"@{name}_folded does not take x")
        self.x_index = operands.index(("arg", 0))
        names = [n for n, _ in blocks.parameters(kind, "un", d)]
        self.layer_args = []
        for p in params:
            args = [p[n] for n in names]
            prepared = fns[f"{name}_prepare_weights"](*[args[i] for i in prep_args])
            self.layer_args.append([args[i] if source == "arg" else prepared[i]
                                    for source, i in operands])
        shape = blocks.result_shape(kind, d)
        self.buffers = [np.empty(shape, np.float32), np.empty(shape, np.float32)]

    def __call__(self, x):
        """The model's output (in an internal buffer, valid until the next call)."""
        h = x
        for layer, args in enumerate(self.layer_args):
            args[self.x_index] = h
            out = self.buffers[layer % 2]
            self.hot(*args, out=[out])
            h = out
        return h


# -------------------------------------------------------------------- ONNX

def export_onnx(model, x, path):
    """Exports `model(x)` to `path`: the TorchScript exporter, else the
    dynamo exporter. Returns the exporter's name."""
    errors = []
    for dynamo in (False, True):
        try:
            with warnings.catch_warnings(), torch.no_grad(), \
                    contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (x,), str(path), input_names=["x"],
                                  output_names=["y"], opset_version=ONNX_OPSET, dynamo=dynamo)
            return "dynamo" if dynamo else "TorchScript"
        except Exception as e:  # noqa: BLE001 - report and try the other exporter
            errors.append(f"{'dynamo' if dynamo else 'TorchScript'}: {_first_line(e)}")
    raise RuntimeError("ONNX export failed: " + "; ".join(errors))


def ort_session(onnx_path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


# -------------------------------------------------------------------- IREE

def iree_compile(onnx_path):
    """The ONNX file compiled by IREE for this CPU: the .vmfb path (beside
    it, a unique name: the runtime maps the file)."""
    importer, compiler = shutil.which("iree-import-onnx"), shutil.which("iree-compile")
    if not importer or not compiler:
        raise RuntimeError("iree-import-onnx / iree-compile not installed "
                           "(pip install -r bench/requirements.txt)")
    mlir, vmfb = onnx_path.with_suffix(".mlir"), onnx_path.with_suffix(".vmfb")
    steps = [[importer, str(onnx_path), "-o", str(mlir)],
             [compiler, str(mlir), "--iree-hal-target-device=local",
              "--iree-hal-local-target-device-backends=llvm-cpu",
              "--iree-llvmcpu-target-cpu=host", "-o", str(vmfb)]]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{os.path.basename(cmd[0])} failed: "
                               + (proc.stderr.strip().splitlines() or ["?"])[-1])
    mlir.unlink()
    return vmfb


_IREE_TASK_THREADS = []  # local-task's worker count, fixed when the driver is first created


def iree_device(threads):
    """local-sync at 1 thread (inline on the caller's thread), else local-task
    with `threads` task workers (a process-wide flag, read once)."""
    import iree.runtime as ireert
    if threads == 1:
        return ireert.get_driver("local-sync").create_default_device()
    if _IREE_TASK_THREADS and _IREE_TASK_THREADS[0] != threads:
        raise RuntimeError(f"local-task already created with {_IREE_TASK_THREADS[0]} workers")
    if not _IREE_TASK_THREADS:
        ireert.flags.parse_flags(f"--task_topology_group_count={threads}")
        _IREE_TASK_THREADS.append(threads)
    return ireert.get_driver("local-task").create_default_device()


class IreeModel:
    """A compiled IREE module's single entry point, on numpy arrays."""

    def __init__(self, vmfb, threads, x):
        import iree.runtime as ireert
        config = ireert.Config(device=iree_device(threads))
        self.context = ireert.SystemContext(config=config)
        module = ireert.VmModule.mmap(config.vm_instance, str(vmfb))
        self.context.add_vm_module(module)
        (entry,) = [n for n in module.function_names
                    if not n.startswith("__") and not n.endswith("$async")]
        self.fn = self.context.modules[module.name][entry]
        self.x = ireert.asdevicearray(config.device, x)  # uploaded once, like the torch tensor

    def __call__(self):
        result = self.fn(self.x)
        # to_host() maps the device buffer without copying, and the mapping
        # dies with `result`: copy while it is alive.
        return np.array(result.to_host(), copy=True)


# ------------------------------------------------------------- contenders

@dataclasses.dataclass
class Contender:
    fn: object = None        # the timed call, or None when not timed
    status: str = ""         # why not timed
    error: float = None      # max |got - want| / max |want| of the check
    note: str = ""


def _first_line(e):
    """`e` in one line: its first line, and the next one where the first
    only introduces a tool's output."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()] or [""]
    text = " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]
    return f"{type(e).__name__}: {text}"[:200]


def checked(fn, want, what):
    """Runs `fn` once and checks its result against `want`: a Contender that
    is timed, or that failed its check."""
    got = fn()
    got = got.detach().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    got = got.reshape(want.shape) if got.size == want.size else got
    error = (float(np.max(np.abs(got.astype(np.float64) - want)) / np.max(np.abs(want)))
             if got.shape == want.shape else float("nan"))
    try:
        harness.assert_close(got, want, rtol=RTOL, what=what)
    except AssertionError as e:
        return Contender(status=f"FAILED check: {_first_line(e)}", error=error)
    return Contender(fn=fn, error=error)


def runs_on_calling_thread(fn):
    """Whether `fn` does its work on the calling thread (what thread CPU time
    measures): the process's CPU time over a call exceeds the thread's by
    at most 10 %."""
    fn()
    t0, p0 = time.thread_time(), time.process_time()
    fn()
    dt, dp = time.thread_time() - t0, time.process_time() - p0
    return dp <= 1.1 * dt + 1e-3


class ModelSetup:
    """What a configuration builds once for all thread counts: the weights,
    the torch models and the references of the checks, the un-mlir library,
    the ONNX file and the IREE module. A part that could not be built
    leaves its reason in `*_error`."""

    def __init__(self, key, kind, d, layers, workdir, iree_reason, threaded,
                 compare_build=None):
        self.key, self.kind, self.d, self.layers = key, kind, d, layers
        self.prefix = workdir / f"{key}_B{d.batch}_L{layers}"  # unique per library (dlopen)
        params = layer_parameters(kind, d, layers)
        self.x = params[0]["x"]
        self.xt = torch.from_numpy(self.x)
        self.ln_model = torch_model(kind, "ln", d, params)
        with torch.inference_mode():
            self.ln_want = self.ln_model(self.xt).numpy().astype(np.float64)
            self.un_want = torch_model(kind, "un", d, params)(self.xt).numpy().astype(np.float64)
        self.un_mlir, self.un_mlir_error, self.un_mlir_build_s = {}, {}, {}
        for name in (UN_MLIR, UN_MLIR_OMP) if threaded else (UN_MLIR,):
            self._build_un_mlir(name, params)
        self.compare_build = compare_build
        if compare_build:
            with un_build(compare_build):
                self._build_un_mlir(UN_MLIR_COMPARED, params)
        self._export_onnx()
        self._build_iree(iree_reason)

    def _build_un_mlir(self, name, params):
        """un-mlir contender `name` (UN_PIPELINES), in its own library."""
        suffix = {UN_MLIR: "_un_folded.so", UN_MLIR_OMP: "_un_folded_omp.so",
                  UN_MLIR_COMPARED: "_un_folded_compared.so"}[name]
        start = time.perf_counter()
        try:
            self.un_mlir[name] = UnMlirModel(self.kind, self.d, params,
                                             self.prefix.with_name(self.prefix.name + suffix),
                                             UN_PIPELINES[name])
        except Exception as e:  # noqa: BLE001 - reported in the table
            self.un_mlir_error[name] = f"build failed: {_first_line(e)}"
        self.un_mlir_build_s[name] = time.perf_counter() - start

    def _export_onnx(self):
        self.onnx_path = self.prefix.with_name(self.prefix.name + "_ln.onnx")
        self.onnx_error, self.exporter = "", ""
        try:
            self.exporter = export_onnx(self.ln_model, self.xt, self.onnx_path)
        except RuntimeError as e:
            self.onnx_error = str(e)

    def _build_iree(self, iree_reason):
        self.vmfb, self.iree_error, self.iree_build_s = None, iree_reason, 0.0
        if iree_reason is not None:
            return
        if self.onnx_error:
            self.iree_error = "no ONNX file"
            return
        start = time.perf_counter()
        try:
            self.vmfb = iree_compile(self.onnx_path)
        except RuntimeError as e:
            self.iree_error = str(e)[:200]
        self.iree_build_s = time.perf_counter() - start


def un_mlir_contender(setup, name, threads):
    model = setup.un_mlir.get(name)
    if model is None:
        return Contender(status=setup.un_mlir_error[name])
    c = checked(lambda: model(setup.x), setup.un_want, f"{name} vs PyTorch eager UN")
    c.note = f"compiled in {setup.un_mlir_build_s[name]:.0f} s"
    if name == UN_MLIR_COMPARED:
        c.note += f" by {setup.compare_build}/bin/un-opt"
    if threads > 1:
        where = "libomp, all cores" if name == UN_MLIR_OMP else "1 thread (single-threaded build)"
        c.note = f"{where}; {c.note}"
    return c


def eager_contender(setup):
    model, xt = setup.ln_model, setup.xt
    c = checked(lambda: model(xt), setup.ln_want, EAGER)
    c.note = "the reference of the LN checks"
    return c


def compile_contender(setup, threads):
    """torch.compile of the LN model for `threads` threads, compiled now."""
    torch._dynamo.reset()
    torch._inductor.config.cpp.threads = threads  # in the compiled code and its cache key
    compiled, xt = torch.compile(setup.ln_model), setup.xt
    start = time.perf_counter()
    try:
        compiled(xt)
    except Exception as e:  # noqa: BLE001 - reported, not fatal
        print(f"  torch.compile failed: {_first_line(e)}")
        return Contender(status=f"compile failed: {_first_line(e)}")
    seconds = time.perf_counter() - start
    c = checked(lambda: compiled(xt), setup.ln_want, COMPILE)
    c.note = f"compiled in {seconds:.0f} s (inductor's on-disk cache included)"
    return c


def ort_contender(setup, threads):
    if setup.onnx_error:
        return Contender(status=setup.onnx_error)
    session, feed = ort_session(setup.onnx_path, threads), {"x": setup.x}
    c = checked(lambda: session.run(None, feed)[0], setup.ln_want, ORT)
    c.note = f"{setup.exporter} ONNX export, opset {ONNX_OPSET}"
    return c


def iree_contender(setup, threads):
    if setup.vmfb is None:
        return Contender(status=f"not measured: {setup.iree_error}")
    try:
        model = IreeModel(setup.vmfb, threads, setup.x)
    except Exception as e:  # noqa: BLE001 - reported, not fatal
        return Contender(status=f"run failed: {_first_line(e)}")
    c = checked(model, setup.ln_want, IREE)
    driver = "local-sync" if threads == 1 else f"local-task, {threads} workers"
    c.note = f"{driver}; imported and compiled in {setup.iree_build_s:.0f} s"
    return c


def build_contenders(setup, threads, skip_compile):
    """{name: Contender} at `threads` threads, each checked; at 1 thread,
    only those that work on the calling thread are timed."""
    names = (UN_MLIR, UN_MLIR_OMP) if threads > 1 else (UN_MLIR,)
    if setup.compare_build and threads == 1:
        names += (UN_MLIR_COMPARED,)
    out = {name: un_mlir_contender(setup, name, threads) for name in names}
    out[EAGER] = eager_contender(setup)
    out[COMPILE] = (Contender(status="skipped (--skip-compile)") if skip_compile
                    else compile_contender(setup, threads))
    out[ORT] = ort_contender(setup, threads)
    out[IREE] = iree_contender(setup, threads)
    if threads == 1:
        for c in out.values():
            if c.fn is not None and not runs_on_calling_thread(c.fn):
                c.fn, c.status = None, "not timed: works on other threads at 1 thread"
    return out


# ------------------------------------------------------------------ tables

def settle(fn, wall):
    """Readies `fn` for a timing: with several threads, first a pause
    (SETTLE_S), because a runtime's idle workers busy-wait for a while after
    its last call (libomp 200 ms by default, ORT's pool and libgomp less)
    and would take the cores from the next contender; then one untimed call
    of `fn`, which wakes its own workers."""
    if wall:
        time.sleep(SETTLE_S)
    fn()


class OtherLoad:
    """Share of the machine's CPUs that other processes used between
    construction and `share()` (/proc/stat's busy time less this process's
    CPU time), or None where /proc/stat is missing: how much the
    measurements were disturbed on a shared machine."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return busy, usage.ru_utime + usage.ru_stime, time.perf_counter()

    def share(self):
        end = self._sample()
        if self.start is None or end is None:
            return None
        (b0, own0, t0), (b1, own1, t1) = self.start, end
        return max(0.0, (b1 - b0) - (own1 - own0)) / ((t1 - t0) * os.cpu_count())


def time_contenders(contenders, rounds, wall):
    """({name: (min ms, median ms)} of the timed contenders, calls per
    timing): enough calls that the slowest takes about TARGET_S."""
    timed = {n: c.fn for n, c in contenders.items() if c.fn is not None}
    if not timed:
        return {}, 0, None
    slowest = 0.0
    for fn in timed.values():
        settle(fn, wall)
        slowest = max(slowest, time_call(fn, 1, wall))
    reps = max(1, round(TARGET_S / slowest))
    load = OtherLoad()
    times = interleaved(timed, rounds, reps, wall, warmup=0,
                        before=lambda fn: settle(fn, wall))
    return summary(times), reps, load.share()


def print_table(setup, threads, contenders, stats, rounds, reps, wall, other):
    d = setup.d
    clock = "wall time" if wall else "thread CPU time"
    print(f"\n{setup.key}: {setup.kind} block, B={d.batch} T={d.tokens} C={d.channels} "
          f"heads={d.heads} MLP={d.mlp}, {setup.layers} layer(s), f32; {threads} thread(s), "
          f"{clock}, {rounds} rounds x {reps} call(s)")
    if other is not None:
        print(f"  other processes used {other:.0%} of the {os.cpu_count()} CPUs meanwhile"
              + (" (wall times are disturbed)" if wall and other > 0.05 else ""))
    print(f"  {'contender':26s} {'min ms':>9s} {'median ms':>10s} {'check err':>10s}  note")
    for name, c in contenders.items():
        err = f"{c.error:10.1e}" if c.error is not None else f"{'':10s}"
        if name in stats:
            lo, med = stats[name]
            print(f"  {name:26s} {lo:9.2f} {med:10.2f} {err}  {c.note}")
        else:
            print(f"  {name:26s} {'-':>9s} {'-':>10s} {err}  {c.status}")
    for un in (UN_MLIR, UN_MLIR_OMP, UN_MLIR_COMPARED):
        ratios = [f"{un} / {peer}: {stats[un][0] / stats[peer][0]:.3f}x"
                  for peer in (EAGER, ORT) if un in stats and peer in stats]
        if ratios:
            print("  " + "   ".join(ratios) + "   (min-based)")


def run_config(key, layers, batch, thread_counts, rounds, skip_compile, workdir, iree_reason,
               compare_build):
    kind, d = CONFIGS[key]
    d = dataclasses.replace(d, batch=batch)
    setup = ModelSetup(key, kind, d, layers, workdir, iree_reason,
                       threaded=max(thread_counts) > 1, compare_build=compare_build)
    for threads in thread_counts:
        torch.set_num_threads(threads)
        wall = threads > 1
        with torch.inference_mode():
            contenders = build_contenders(setup, threads, skip_compile)
            stats, reps, other = time_contenders(contenders, rounds, wall)
        print_table(setup, threads, contenders, stats, rounds, reps, wall, other)
        del contenders
        gc.collect()


def iree_unavailable():
    """Why IREE is not measured, or None when it is installed."""
    try:
        import iree.compiler  # noqa: F401
        import iree.runtime  # noqa: F401
    except ImportError as e:
        return f"IREE not installed ({e.name}); pip install -r bench/requirements.txt"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--blocks", default="vit,bert128,bert512",
                        help=f"comma-separated, of {', '.join(CONFIGS)}")
    parser.add_argument("--layers", type=int, choices=(1, 12), default=1)
    parser.add_argument("--batch", type=int, choices=(1, 8), default=1)
    parser.add_argument("--threads", choices=("1", "all", "both"), default="both")
    parser.add_argument("--skip-compile", action="store_true",
                        help="leave torch.compile out (slow to compile on few cores)")
    parser.add_argument("--compare-build", type=pathlib.Path,
                        help="a build directory of another commit: the UN block compiled "
                             "by its un-opt runs in the same 1-thread rounds")
    args = parser.parse_args()
    keys = args.blocks.split(",")
    for key in keys:
        if key not in CONFIGS:
            parser.error(f"unknown block {key!r}; known: {', '.join(CONFIGS)}")
    all_threads = os.cpu_count()
    thread_counts = {"1": [1], "all": [all_threads],
                     "both": sorted({1, all_threads})}[args.threads]
    iree_reason = iree_unavailable()

    print(cpu_description())
    versions = f"torch {torch.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}"
    if iree_reason is None:
        versions += f", iree-base-runtime {importlib.metadata.version('iree-base-runtime')}"
    print(versions)
    print(f"threads: {', '.join(map(str, thread_counts))}; {args.rounds} interleaved rounds; "
          f"1 thread: thread CPU time, more: wall time; check: harness.assert_close rtol {RTOL}, "
          f"'check err' = max |got - want| / max |want|")
    if iree_reason:
        print(f"IREE LN not measured: {iree_reason}")
    with tempfile.TemporaryDirectory() as tmp:
        for key in keys:
            run_config(key, args.layers, args.batch, thread_counts, args.rounds,
                       args.skip_compile, pathlib.Path(tmp), iree_reason, args.compare_build)


if __name__ == "__main__":
    main()
