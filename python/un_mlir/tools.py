"""Locations of the un-mlir and LLVM 22 command-line tools.

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import os
import pathlib
import shutil

_PACKAGE = pathlib.Path(__file__).resolve().parent
_REPO = _PACKAGE.parents[1]
LLVM_BIN = pathlib.Path(os.environ.get("UN_LLVM_BIN", "/usr/lib/llvm-22/bin"))
LLVM_LIB = LLVM_BIN.parent / "lib"


def un_tool(name):
    """Path of an un-mlir tool: the package's own bin/ (where `pip install`
    puts the tools built with its native module), $UN_BUILD_DIR/bin, the
    repo's build/bin, PATH."""
    build = pathlib.Path(os.environ.get("UN_BUILD_DIR", _REPO / "build"))
    for candidate in (_PACKAGE / "bin" / name, build / "bin" / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found: build un-mlir or set UN_BUILD_DIR")


def llvm_tool(name):
    """Path of an LLVM 22 tool (opt, llc, mlir-translate, mlir-runner)."""
    candidate = LLVM_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(f"{name}-22") or shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} (LLVM 22) not found in {LLVM_BIN} or PATH")
