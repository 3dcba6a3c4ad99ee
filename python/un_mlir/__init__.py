"""un-mlir Python package.

- `un_mlir.compile(model, example_args)`: a PyTorch model (or MLIR text)
  compiled for the CPU with its normalizations folded, as a callable
  `CompiledModel` (`save(path)`, `un_mlir.load(path)`); see `un_mlir.api`;
- `un_mlir.reference`: numpy transcription of the Unified Normalization spec;
- `un_mlir.compiler`: parse, transform, JIT-compile and run MLIR with the un
  dialect (native module `un_mlir._native`, built by CMake);
- `un_mlir.torch`: `UnifiedNorm` for PyTorch, `convert_layernorm`, and the
  exporter from PyTorch models to MLIR.

The native module is built into `<build>/python_packages/un_mlir`; this
package adds that directory to its search path (the repository's `build/`,
or `$UN_BUILD_DIR`), so only `python/` needs to be on `PYTHONPATH`.
"""
import os as _os
import pathlib as _pathlib


def _add_native_dir():
    here = _pathlib.Path(__file__).resolve().parent
    build = _pathlib.Path(_os.environ.get("UN_BUILD_DIR", here.parents[1] / "build"))
    native = build / "python_packages" / "un_mlir"
    if native.is_dir() and str(native) not in __path__:
        __path__.append(str(native))


_add_native_dir()

from .api import CompiledModel, InputError, compile, load  # noqa: E402

__all__ = ["CompiledModel", "InputError", "compile", "load"]
