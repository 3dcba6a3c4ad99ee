# -*- Python -*-
# lit configuration for the un-mlir regression tests.

import os

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
config.substitutions.append(("%llvm_lib_dir", config.llvm_lib_dir))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()  # FileCheck, not, count, split-file

# Our tools first, then LLVM 22's (FileCheck, not, count, mlir-runner).
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.un_tools_dir, append_path=True)

tools = [
    "un-opt",
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

# The mlir-opt plugin (test/Plugin) and the installed package (test/Install).
config.substitutions.append(
    ("%un_plugin", os.path.join(config.un_obj_root, "lib", "UNPlugin.so")))
config.substitutions.append(("%un_obj_root", config.un_obj_root))
