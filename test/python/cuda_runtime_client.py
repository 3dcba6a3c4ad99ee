"""The CUDA runtime (libun_cuda_runtime.so) as the scripts of the GPU
host-side tests use it, in processes of their own under the fake driver:
loaded with its allocation and copy entry points typed, and numpy arrays
copied into device memory as memref descriptors."""
import ctypes

import numpy as np

from un_mlir import memref


def load(path):
    """The runtime at `path`, loaded globally (compiled code resolves its
    mgpu* calls against it)."""
    rt = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    rt.mgpuMemAlloc.restype = ctypes.c_void_p
    rt.mgpuMemAlloc.argtypes = [ctypes.c_uint64, ctypes.c_void_p, ctypes.c_bool]
    rt.mgpuMemcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                              ctypes.c_void_p]
    return rt


def device(rt, array):
    """A descriptor of a device copy of `array` (row-major)."""
    array = np.ascontiguousarray(array)
    ptr = rt.mgpuMemAlloc(max(array.nbytes, 1), None, False)
    rt.mgpuMemcpy(ptr, array.ctypes.data, array.nbytes, None)
    desc = memref._descriptor_type(array.ndim)()
    desc.allocated = desc.aligned = ptr
    for i, size in enumerate(array.shape):
        desc.sizes[i] = size
        desc.strides[i] = int(np.prod(array.shape[i + 1:]))
    return desc


def host(rt, desc, dtype):
    """A host copy of the row-major device buffer `desc` describes."""
    out = np.empty([desc.sizes[i] for i in range(len(desc.sizes))], dtype)
    rt.mgpuMemcpy(out.ctypes.data, desc.aligned, out.nbytes, None)
    return out
