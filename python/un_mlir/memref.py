"""Calling compiled MLIR functions from Python through their C interface.

A function marked `llvm.emit_c_interface` is exported as
`_mlir_ciface_<name>`; each memref argument is passed as a pointer to a
descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}.
"""
import ctypes

import numpy as np

_DESCRIPTORS = {}


def _descriptor_type(rank):
    if rank not in _DESCRIPTORS:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                  ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _DESCRIPTORS[rank] = type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})
    return _DESCRIPTORS[rank]


def descriptor(array):
    """A memref descriptor viewing the C-contiguous numpy `array` (no copy)."""
    if not array.flags["C_CONTIGUOUS"]:
        raise ValueError("memref arguments must be C-contiguous arrays")
    desc = _descriptor_type(array.ndim)()
    ptr = array.ctypes.data
    desc.allocated = desc.aligned = ptr
    desc.offset = 0
    for i, (size, stride) in enumerate(zip(array.shape, array.strides)):
        desc.sizes[i] = size
        desc.strides[i] = stride // array.itemsize
    return desc


class CompiledFunction:
    """`_mlir_ciface_<name>` of a shared library, called with numpy arrays
    for memref arguments (outputs are written in place)."""

    def __init__(self, library, name):
        self._fn = getattr(library, f"_mlir_ciface_{name}")
        self._fn.restype = None
        self.name = name

    def __call__(self, *arrays):
        descriptors = [descriptor(a) for a in arrays]
        self._fn(*[ctypes.byref(d) for d in descriptors])


def load(path):
    """Loads a compiled shared library."""
    return ctypes.CDLL(str(path))
