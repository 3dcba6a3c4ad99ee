"""`un-mlir`, the command line of the package (a console script of
`pip install .`; in a source tree, `python3 -m un_mlir.cli`).

    un-mlir compile MODEL.py:FACTORY --out DIR [--threads] [--dynamic-batch]
    un-mlir opt ARGS...        # the package's un-opt with ARGS
    un-mlir --version

The command is the interface; the functions here are internal, not
public API (docs/api.md).
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import inspect
import os
import pathlib
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

PROG = "un-mlir"


class CommandError(Exception):
    """A usage error: printed as `un-mlir: error: ...`, exit status 2."""


def version() -> str:
    """CMakeLists.txt's project VERSION in a source tree, else the version
    of the installed distribution (which pyproject.toml reads from there)."""
    cmake = pathlib.Path(__file__).resolve().parents[2] / "CMakeLists.txt"
    if cmake.is_file():
        found = re.search(r"project\(un-mlir VERSION ([0-9.]+)", cmake.read_text())
        if found:
            return found.group(1)
    try:
        return importlib.metadata.version("un-mlir")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def load_factory(spec: str) -> Callable[[], Sequence[Any]]:
    """The function FACTORY of the Python file MODEL.py, from `MODEL.py:FACTORY`.
    The file is imported as a module named after it, with its directory on
    sys.path (so it can import its neighbours)."""
    file, sep, name = spec.rpartition(":")
    if not sep or not file or not name:
        raise CommandError(f"expected MODEL.py:FACTORY, got {spec!r}")
    path = pathlib.Path(file).resolve()
    if not path.is_file():
        raise CommandError(f"{file}: no such file")
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    if module_spec is None or module_spec.loader is None:
        raise CommandError(f"{file}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(path.parent))
    sys.modules.setdefault(path.stem, module)
    module_spec.loader.exec_module(module)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise CommandError(f"{file} has no function {name}")
    return factory


def example_inputs(spec: str, result: Any) -> tuple[Any, tuple[Any, ...], dict[str, Any] | None]:
    """(model, example_args, example_kwargs) from what FACTORY returned:
    (model, example_args) or (model, example_args, example_kwargs); a single
    example argument may be given without a tuple."""
    if not isinstance(result, (tuple, list)) or len(result) not in (2, 3):
        raise CommandError(f"{spec} must return (model, example_args) or "
                           f"(model, example_args, example_kwargs), not {type(result).__name__}")
    model, args = result[0], result[1]
    kwargs = result[2] if len(result) == 3 else None
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if kwargs is not None and not isinstance(kwargs, dict):
        raise CommandError(f"{spec}: example_kwargs must be a dict, not {type(kwargs).__name__}")
    return model, args, kwargs


def batch_dynamic_shapes(model: Any, args: tuple[Any, ...],
                         kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """torch.export `dynamic_shapes` making dim 0 of every tensor input one
    dynamic dimension `batch` (so all inputs share it), keyed by the names
    of the model's forward arguments."""
    import torch

    batch = torch.export.Dim("batch")

    def spec(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return {0: batch} if value.dim() > 0 else None
        if isinstance(value, (tuple, list)):
            return type(value)(spec(v) for v in value)
        if isinstance(value, dict):
            return {k: spec(v) for k, v in value.items()}
        return None

    forward = model.forward if hasattr(model, "forward") else model
    bound = inspect.signature(forward).bind(*args, **(kwargs or {}))
    return {name: spec(value) for name, value in bound.arguments.items()}


def compile_command(options: argparse.Namespace) -> int:
    from . import api

    factory = load_factory(options.model)
    model, args, kwargs = example_inputs(options.model, factory())
    dynamic_shapes = batch_dynamic_shapes(model, args, kwargs) if options.dynamic_batch else None
    compiled = api.compile(model, args, kwargs, dynamic_shapes=dynamic_shapes, threads=options.threads)
    compiled.save(options.out)
    print(f"{PROG}: saved {options.out}")
    return 0


def opt_command(args: Sequence[str]) -> int:
    """Replaces this process with the package's un-opt (un_mlir.tools.un_tool)."""
    from .tools import un_tool

    try:
        tool = un_tool("un-opt")
    except FileNotFoundError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(tool, [tool, *args])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Unified Normalization compiler.")
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    c = commands.add_parser("compile", help="compile a PyTorch model and save it to a directory",
                            description="Imports MODEL.py, calls FACTORY() for (model, example_args"
                            "[, example_kwargs]), compiles the model with un_mlir.compile and "
                            "saves it to DIR (load it with un_mlir.load).")
    c.add_argument("model", metavar="MODEL.py:FACTORY")
    c.add_argument("--out", required=True, metavar="DIR", help="directory to save the compiled model to")
    c.add_argument("--threads", action="store_true", help="run the compiled code on all cores (OpenMP)")
    c.add_argument("--dynamic-batch", action="store_true",
                   help="make dim 0 of every tensor input one dynamic batch dimension")
    o = commands.add_parser("opt", add_help=False, help="run the package's un-opt with ARGS",
                            description="Runs the package's un-opt with ARGS (`un-mlir opt --help`: "
                            "un-opt's options).")
    o.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after `opt` is un-opt's, options included.
    if argv[:1] == ["opt"]:
        return opt_command(argv[1:])
    options = parser().parse_args(argv)
    try:
        return compile_command(options)
    except CommandError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
