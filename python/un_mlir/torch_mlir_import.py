"""PyTorch models into un-mlir through torch-mlir's FX importer.

torch-mlir links its own, newer MLIR, so the hand-off is textual: the
module is printed by torch-mlir and parsed by un-opt (MLIR 22). The pretty
form is tried first; if un-opt cannot parse it (a newer op syntax), the
generic op form, which is stable across MLIR versions, is used instead.
"""
import re
import subprocess

from .tools import un_tool


def _parses(text):
    proc = subprocess.run([un_tool("un-opt"), "-o", "/dev/null"], input=text,
                          capture_output=True, text=True)
    return proc.returncode == 0, proc.stderr


def import_model(model, *example_inputs, c_interface=True):
    """linalg-on-tensors MLIR text of `model` (in eval mode), as MLIR 22
    parses it. With `c_interface`, the entry function `main` exports
    `_mlir_ciface_main` for `un_mlir.memref`."""
    from torch_mlir import fx

    module = fx.export_and_import(model, *example_inputs,
                                  output_type="linalg-on-tensors")
    text = str(module)
    ok, _ = _parses(text)
    if not ok:
        text = module.operation.get_asm(print_generic_op_form=True)
        ok, errors = _parses(text)
        if not ok:
            raise RuntimeError("torch-mlir output does not parse in MLIR 22, "
                               "in pretty or generic form:\n" + errors)
    if c_interface:
        text = add_c_interface(text, "main")
    return text


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
