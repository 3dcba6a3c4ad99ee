"""Ahead-of-time compilation of MLIR with un ops to a host shared library.

un-opt --un-cpu-pipeline -> un-translate --mlir-to-llvmbc -> opt -O3 ->
llc -O3 -> cc -shared. Functions marked `llvm.emit_c_interface` are then
callable as `_mlir_ciface_<name>` (see `un_mlir.memref`).

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import os
import pathlib
import re
import subprocess
import tempfile

from . import mpi
from .tools import LLVM_LIB, llvm_tool, un_tool


class CompileError(RuntimeError):
    """A compilation step failed; the message carries the tool's output."""


def _run(cmd, stdin=None):
    proc = subprocess.run(cmd, input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise CompileError(f"{os.path.basename(cmd[0])} failed (exit {proc.returncode}):\n"
                           + proc.stderr.decode(errors="replace"))
    return proc.stdout


def pipeline_args(pipeline):
    """un-opt arguments for `pipeline`: one registered pipeline or pass name
    (run as `--name`), or a sequence of pass/pipeline names with options
    (`["un-fold-into-linear{hoist-weight-prep=true}", "un-cpu-pipeline"]`),
    run in order as one `--pass-pipeline`."""
    if isinstance(pipeline, str):
        return [f"--{pipeline}"]
    return [f"--pass-pipeline=builtin.module({','.join(pipeline)})"]


def run_un_opt(mlir_text, pipeline):
    """MLIR text -> MLIR text after `pipeline` (see `pipeline_args`)."""
    return _run([un_tool("un-opt"), *pipeline_args(pipeline)], mlir_text.encode()).decode()


def run_un_opt_with_remarks(mlir_text, pipeline):
    """(MLIR text after `pipeline`, the diagnostics un-opt printed: one
    string per remark or warning)."""
    proc = subprocess.run([un_tool("un-opt"), *pipeline_args(pipeline)],
                          input=mlir_text.encode(), capture_output=True)
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise CompileError(f"un-opt failed (exit {proc.returncode}):\n{stderr}")
    notes = [line.split(": ", 1)[1] if ": " in line else line
             for line in stderr.splitlines() if re.search(r": (remark|warning): ", line)]
    return proc.stdout.decode(), notes


def _for_cpu(pipeline, cpu):
    """`pipeline` with the CPU code generation told about `cpu` (an
    `un-cpu-pipeline` stage without options gets `cpu=`; `native` is the
    host, its default)."""
    if cpu == "native":
        return pipeline
    stages = [pipeline] if isinstance(pipeline, str) else list(pipeline)
    stages = [f"un-cpu-pipeline{{cpu={cpu}}}" if s == "un-cpu-pipeline" else s for s in stages]
    return stages


def host_triple():
    """The target triple of this machine, as LLVM names it."""
    return _run([llvm_tool("llvm-config"), "--host-target"]).decode().strip()


def compile_shared_library(mlir_text, output, cpu="native", pipeline="un-cpu-pipeline"):
    """Compiles `mlir_text` into the shared library `output` for `cpu`.

    un-opt's `pipeline`, then un-translate to LLVM bitcode (not text: a
    model's weights are constants in the module, and as LLVM IR text they
    took most of the compile time), opt -O3, llc -O3. The triple is passed
    explicitly: the translation emits a module without one, and without it
    LLVM's cost model sees no vector registers and leaves every loop
    scalar. Code that runs on all cores (`un-cpu-pipeline{threads=true}`)
    is linked with LLVM's OpenMP runtime (Debian's libomp-22-dev), code
    with statistics across processes (`all_ranks`) with MPICH.
    """
    output = pathlib.Path(output)
    target = [f"-mtriple={host_triple()}", f"-mcpu={cpu}"]
    llvm_dialect = _run([un_tool("un-opt"), *pipeline_args(_for_cpu(pipeline, cpu))],
                        mlir_text.encode())
    bitcode = _run([un_tool("un-translate"), "--mlir-to-llvmbc"], llvm_dialect)
    optimized = _run([llvm_tool("opt"), "-O3", *target], bitcode)
    with tempfile.TemporaryDirectory() as tmp:
        obj = pathlib.Path(tmp) / "module.o"
        _run([llvm_tool("llc"), "-O3", *target, "-filetype=obj",
              "-relocation-model=pic", "-o", str(obj)], optimized)
        libs = ["-lm"]
        if re.search(rb"\bomp\.", llvm_dialect):  # un-cpu-pipeline{threads=true}: OpenMP
            libs = [f"-L{LLVM_LIB}", f"-Wl,-rpath,{LLVM_LIB}", "-lomp", *libs]
        if re.search(rb"@MPI_", llvm_dialect):  # statistics across processes: MPICH
            if not mpi.mpich_installed():
                raise CompileError(f"the module calls MPI: {mpi.MISSING}")
            libs = ["-lmpich", *libs]
        # -Bsymbolic: calls inside the library stay inside it, even where a
        # program defines a function of the same name (a model's @main).
        _run(["cc", "-shared", "-Wl,-Bsymbolic", "-o", str(output), str(obj), *libs])
    return output
