"""PyTorch models into un-mlir through torch-mlir's FX importer.

torch-mlir links its own, newer MLIR, so the hand-off is textual: the
module is printed by torch-mlir and parsed by un-opt (MLIR 22). The pretty
form is tried first; if un-opt cannot parse it (a newer op syntax), the
module is imported again and printed in the generic op form, which is
stable across MLIR versions.

torch-mlir's Python package carries its own LLVM; loaded into a process
that already holds Debian's libLLVM (our native module `un_mlir._native`),
the two register the same global options and the process aborts. So the
model is exported with torch.export in the caller's process and imported by
torch-mlir in a child process, which prints the MLIR text.

Two routes for UnifiedNorm (see docs/torch-mlir.md):
  - decomposed (default): torch-mlir lowers the normalization to linalg
    like any other code; `un-opt --un-raise-norms` recognizes it;
  - preserved: modules that call `torch.ops.un_mlir.unified_norm_infer`
    keep it as one call `@un_mlir.unified_norm_infer.<i>(x, gamma, beta,
    running_var, eps)` through torch-mlir's lowering, and
    `--un-raise-norms` turns the call into `un.infer`.

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import contextlib
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import warnings

from .tools import un_tool


def _parses(text):
    proc = subprocess.run([un_tool("un-opt"), "-o", "/dev/null"], input=text,
                          capture_output=True, text=True)
    return proc.returncode == 0, proc.stderr


_CUSTOM_OP = "torch.un_mlir.unified_norm_infer"
_CALLEE = "un_mlir.unified_norm_infer"
_VERIFY_CONTRACT = "torch-verify-linalg-on-tensors-backend-contract"


def _preserve_unified_norm(module):
    """Replaces each torch.operator of UnifiedNorm in torch-mlir's raw import
    by a call to a private function, then lowers the rest to linalg. The
    linalg backend contract forbids calls, so the pipeline runs without its
    final contract check; everything but the calls is linalg on tensors."""
    from torch_mlir import ir, passmanager
    from torch_mlir.compiler_utils import run_pipeline_with_repro_report

    ops = []

    def collect(op):
        for region in op.regions:
            for block in region.blocks:
                for nested in block.operations:
                    nested = nested.operation
                    if (nested.name == "torch.operator" and
                            ir.StringAttr(nested.attributes["name"]).value == _CUSTOM_OP):
                        ops.append(nested)
                    collect(nested)

    collect(module.operation)
    with module.context, ir.Location.unknown():
        for i, op in enumerate(ops):
            operands = list(op.operands)
            eps_op = operands[4].owner
            if eps_op.name != "torch.constant.float":
                raise ValueError("unified_norm_infer: eps must be a constant")
            # eps stays an operand (a constant float): torch-mlir's call
            # rewriting keeps operands, not discardable attributes.
            args, result_type = operands[:5], op.results[0].type
            name = f"{_CALLEE}.{i}"
            call = ir.Operation.create(
                "func.call", results=[result_type], operands=args,
                attributes={"callee": ir.FlatSymbolRefAttr.get(name)},
                ip=ir.InsertionPoint(op))
            op.results[0].replace_all_uses_with(call.result)
            op.erase()
            with ir.InsertionPoint(module.body):
                ir.Operation.create(
                    "func.func", regions=1,
                    attributes={"sym_name": ir.StringAttr.get(name),
                                "sym_visibility": ir.StringAttr.get("private"),
                                "function_type": ir.TypeAttr.get(ir.FunctionType.get(
                                    [a.type for a in args], [result_type]))})
    run_pipeline_with_repro_report(
        module, "builtin.module(func.func(torch-match-quantized-custom-ops),"
        "torchdynamo-export-to-torch-backend-pipeline)", "torch backend")
    with module.context:
        pipeline = str(passmanager.PassManager.parse(
            "builtin.module(torch-backend-to-linalg-on-tensors-backend-pipeline)"))
    pipeline = pipeline.replace("," + _VERIFY_CONTRACT, "")
    run_pipeline_with_repro_report(module, pipeline, "linalg on tensors (calls kept)")
    return module


def _import_exported_program(path, preserve_unified_norm):
    """In the child process: torch-mlir's import of a saved ExportedProgram."""
    import torch
    from torch_mlir import fx

    from . import torch_ops  # noqa: F401  (registers the custom op)

    program = torch.export.load(path)
    if preserve_unified_norm:
        module = _preserve_unified_norm(fx.export_and_import(program, output_type="raw"))
    else:
        module = fx.export_and_import(program, output_type="linalg-on-tensors")
    return module


@contextlib.contextmanager
def _buffers_persistent(model):
    """Non-persistent buffers (BERT's position_ids) as persistent ones while
    the model is exported: torch-mlir's importer looks every buffer up in
    the state dict."""
    saved = [(m, set(m._non_persistent_buffers_set)) for m in model.modules()
             if m._non_persistent_buffers_set]
    for m, _ in saved:
        m._non_persistent_buffers_set.clear()
    try:
        yield
    finally:
        for m, names in saved:
            m._non_persistent_buffers_set.update(names)


def _cumsum_as_masked_sum(x, dim, dtype=None):
    """aten.cumsum as y[..i..] = sum_j x[..j..] * (j <= i): torch-mlir lowers
    cumsum to `tm_tensor.scan`, which MLIR 22 does not know. Quadratic in
    the length of `dim`; Transformers use it on token positions only."""
    import torch

    if dtype is not None:
        x = x.to(dtype)
    elif not x.dtype.is_floating_point:
        x = x.to(torch.int64)  # as aten.cumsum promotes integers
    if x.dim() == 0:
        return x.clone()
    n = x.shape[dim]
    index = torch.arange(n, device=x.device)
    mask = (index.unsqueeze(1) >= index.unsqueeze(0)).to(x.dtype)  # [i, j]: j <= i
    return (x.movedim(dim, -1).unsqueeze(-2) * mask).sum(-1).movedim(-1, dim)


def _views_as_reshapes(program):
    """aten.view -> aten.reshape. torch-mlir decomposes the graph again
    (SDPA among others) and may give a tensor other strides than the
    export did, so a view that was legal fails (GPT-2's attention output);
    a reshape copies where it must. The graph is functional, so no
    aliasing is lost."""
    import torch

    for node in program.graph.nodes:
        if node.op == "call_function" and node.target is torch.ops.aten.view.default:
            node.target = torch.ops.aten.reshape.default
    program.graph_module.recompile()
    return program


def export_program(model, args=(), kwargs=None, dynamic_shapes=None):
    """`model` (put in eval mode) exported with torch.export and prepared
    for torch-mlir: results flattened to a tuple of tensors (so a
    Hugging Face ModelOutput needs no pytree registration in the importing
    process), views as reshapes, cumsum decomposed. Returns (program, the
    results' original TreeSpec)."""
    import torch
    import torch.utils._pytree as pytree

    from . import torch_ops  # noqa: F401  (registers the custom op)

    model = model.eval()
    with _buffers_persistent(model):
        program = torch.export.export(model, tuple(args), kwargs or {},
                                      dynamic_shapes=dynamic_shapes)
    program = _views_as_reshapes(program)
    with warnings.catch_warnings():  # torch's own use of a deprecated pytree API
        warnings.simplefilter("ignore", FutureWarning)
        program = program.run_decompositions(
            {torch.ops.aten.cumsum.default: _cumsum_as_masked_sum})
    program = _views_as_reshapes(program)
    signature = program.module_call_graph[0].signature
    out_spec = signature.out_spec
    signature.out_spec = pytree.tree_structure(tuple(range(out_spec.num_leaves)))
    return program, out_spec


def import_program(program, c_interface=True, preserve_unified_norm=False):
    """linalg-on-tensors MLIR text (as MLIR 22 parses it) of an
    ExportedProgram from `export_program`, imported by torch-mlir in a
    child process. With `c_interface`, the entry function `main` exports
    `_mlir_ciface_main` for `un_mlir.memref`. With `preserve_unified_norm`,
    calls to torch.ops.un_mlir.unified_norm_infer stay one call each."""
    import torch

    package_root = str(pathlib.Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.pt2")
        with warnings.catch_warnings():  # torch's own use of a deprecated pytree API
            warnings.simplefilter("ignore", FutureWarning)
            torch.export.save(program, path)

        def child(*flags):
            cmd = [sys.executable, "-m", "un_mlir.torch_mlir_import", path, *flags]
            if preserve_unified_norm:
                cmd.append("--preserve-unified-norm")
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                raise RuntimeError(f"torch-mlir import failed:\n{proc.stderr[-4000:]}")
            return proc.stdout

        text = child()
        ok, _ = _parses(text)
        if not ok:
            text = child("--generic")
            ok, errors = _parses(text)
            if not ok:
                raise RuntimeError("torch-mlir output does not parse in MLIR 22, "
                                   "in pretty or generic form:\n" + errors)
    if c_interface:
        text = add_c_interface(text, "main")
    return text


def import_model(model, *example_inputs, c_interface=True, preserve_unified_norm=False):
    """linalg-on-tensors MLIR text of `model` (in eval mode) called with
    `example_inputs`: `export_program`, then `import_program`."""
    program, _ = export_program(model, example_inputs)
    return import_program(program, c_interface, preserve_unified_norm)


def add_c_interface(text, name):
    """Marks func.func @`name` with `llvm.emit_c_interface`; the signature
    must be on one line, as torch-mlir prints it (pretty form)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not re.match(rf"\s*func\.func @{name}\(", line):
            continue
        if "attributes {" in line:
            lines[i] = line.replace("attributes {", "attributes {llvm.emit_c_interface, ", 1)
        elif line.rstrip().endswith("{"):
            lines[i] = line.rstrip()[:-1] + "attributes {llvm.emit_c_interface} {"
        else:
            break
        return "\n".join(lines)
    raise ValueError(f"no one-line signature of func.func @{name} in the module")


if __name__ == "__main__":
    _module = _import_exported_program(sys.argv[1], "--preserve-unified-norm" in sys.argv)
    sys.stdout.write(_module.operation.get_asm(print_generic_op_form="--generic" in sys.argv))
