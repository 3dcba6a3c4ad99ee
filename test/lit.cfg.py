# -*- Python -*-
# lit configuration for the un-mlir regression tests.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "UN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "downstream"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.un_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%un_src_root", config.un_src_root))
config.substitutions.append(("%un_obj_root", config.un_obj_root))
config.substitutions.append(("%llvm_lib_dir", config.llvm_lib_dir))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()  # FileCheck, not, count, split-file

# Our tools first, then LLVM 22's (FileCheck, not, count, mlir-runner).
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.un_tools_dir, append_path=True)

tools = [
    "un-opt",
    "un-translate",
    "un-lsp-server",
    ToolSubst("%python", config.python_executable, unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, [config.un_tools_dir, config.llvm_tools_dir])

# Executing lowered code on the CPU (test/Integration/CPU).
config.substitutions.append(
    ("%mlir_runner_utils", os.path.join(config.llvm_lib_dir, "libmlir_runner_utils.so")))
config.substitutions.append(
    ("%mlir_c_runner_utils", os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils.so")))
llvm_config.add_tool_substitutions(
    [ToolSubst("mlir-runner", unresolved="fatal")], [config.llvm_tools_dir])

# Machine code for x86 (test/Codegen/CPU checks the micro-kernels' assembly).
_llc = os.path.join(config.llvm_tools_dir, "llc")
if os.path.exists(_llc) and "x86-64" in subprocess.run(
        [_llc, "--version"], capture_output=True, text=True).stdout:
    config.available_features.add("x86-target")

# The mlir-opt plugin (test/Plugin) and the installed package (test/Install).
config.substitutions.append(
    ("%un_plugin", os.path.join(config.un_obj_root, "lib", "UNPlugin.so")))
config.substitutions.append(("%un_obj_root", config.un_obj_root))

# CUDA (test/Conversion/UNToGPU, test/Pipelines, test/Integration/CUDA):
# - `cuda-pipeline`: un-opt has un-cuda-pipeline (MLIR's NVVM target);
# - `ptxas`: the CUDA toolkit's ptxas exists (cubin/fatbin, PTX checks); its
#   folder is put on PATH for gpu-module-to-binary;
# - `cuda-runtime`: lib/Runtime/CUDA was built (%un_cuda_runtime);
# - `cuda-gpu`: nvidia-smi lists a GPU. Tests that run kernels require it and
#   show as UNSUPPORTED elsewhere.
if getattr(config, "un_enable_cuda_pipeline", False):
    config.available_features.add("cuda-pipeline")
_ptxas = getattr(config, "un_ptxas", "") or "/usr/local/cuda/bin/ptxas"
if os.path.exists(_ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))
    llvm_config.with_environment("PATH", os.path.dirname(_ptxas), append_path=True)
_runtime = getattr(config, "un_cuda_runtime", "")
if _runtime and os.path.exists(_runtime):
    config.available_features.add("cuda-runtime")
    config.substitutions.append(("%un_cuda_runtime", _runtime))


def _has_gpu():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


if _has_gpu():
    config.available_features.add("cuda-gpu")
    # The chip of GPU 0, e.g. sm_90, for kernels JIT-compiled from PTX.
    try:
        cap = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap",
                              "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=20).stdout.split()[0]
        config.substitutions.append(("%cuda_chip", "sm_" + cap.replace(".", "")))
    except (OSError, subprocess.SubprocessError, IndexError):
        config.substitutions.append(("%cuda_chip", "sm_90"))
