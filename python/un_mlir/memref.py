"""Calling compiled MLIR functions from Python through their C interface.

A function marked `llvm.emit_c_interface` is exported as
`_mlir_ciface_<name>`; each memref argument is passed as a pointer to a
descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}.

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
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
    if not array.dtype.isnative:
        raise ValueError(f"memref arguments must be in this machine's byte order, "
                         f"not {array.dtype.str}: convert with "
                         f"a.astype(a.dtype.newbyteorder('='))")
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


_LIBC = ctypes.CDLL(None)
_LIBC.free.argtypes = [ctypes.c_void_p]
_SCALARS = {"i64": (ctypes.c_int64, np.int64), "i1": (ctypes.c_bool, np.bool_),
            "f32": (ctypes.c_float, np.float32)}


class FunctionWithResults:
    """`_mlir_ciface_<name>` of a function that returns values.

    `results` describes them in order: `("memref", rank, numpy dtype)` or
    `("scalar", "i64" | "i1" | "f32")`. With more than one result the C
    interface writes them into a struct passed first; memref results are
    buffers the function allocated and hands over: they are copied into
    numpy arrays and freed. Arguments: numpy arrays for memrefs, Python
    ints/floats for scalars (`scalar_args` gives their C types by position).
    """

    def __init__(self, library, name, results, scalar_args=None):
        self._fn = getattr(library, f"_mlir_ciface_{name}")
        self._fn.restype = None
        self._results = results
        self._scalar_args = scalar_args or {}
        fields = []
        for i, r in enumerate(results):
            ctype = _descriptor_type(r[1]) if r[0] == "memref" else _SCALARS[r[1]][0]
            fields.append((f"r{i}", ctype))
        self._result_type = type(f"{name}_results", (ctypes.Structure,), {"_fields_": fields})

    def __call__(self, *args):
        keep, call_args, inputs = [], [], set()
        for i, a in enumerate(args):
            if i in self._scalar_args:
                call_args.append(_SCALARS[self._scalar_args[i]][0](a))
            else:
                d = descriptor(a)
                keep.append(d)
                inputs.add(a.ctypes.data)
                call_args.append(ctypes.byref(d))
        out = self._result_type()
        self._fn(ctypes.byref(out), *call_args)
        values, owned = [], set()
        for i, r in enumerate(self._results):
            v = getattr(out, f"r{i}")
            if r[0] == "scalar":
                values.append(_SCALARS[r[1]][1](v))
                continue
            rank, dtype = r[1], np.dtype(r[2])
            shape = tuple(v.sizes[k] for k in range(rank)) if rank else ()
            strides = tuple(v.strides[k] * dtype.itemsize for k in range(rank)) if rank else ()
            nbytes = sum((s - 1) * st for s, st in zip(shape, strides)) + dtype.itemsize
            raw = (ctypes.c_char * nbytes).from_address(v.aligned + v.offset * dtype.itemsize)
            view = np.ndarray(shape, dtype, buffer=raw, strides=strides)
            values.append(view.copy())
            if v.allocated and v.allocated not in inputs:
                owned.add(v.allocated)
        for ptr in owned:
            _LIBC.free(ptr)
        return values
