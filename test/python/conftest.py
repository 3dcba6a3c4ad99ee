"""Shared pytest setup: the Python package and the built tools."""
import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

BUILD = pathlib.Path(os.environ.get("UN_BUILD_DIR", ROOT / "build"))

# UnifiedNorm's compiled kernels are cached in a directory of the test run,
# not in the user's cache.
os.environ.setdefault("UN_MLIR_CACHE_DIR", tempfile.mkdtemp(prefix="un_mlir_kernels_"))
UN_OPT = BUILD / "bin" / "un-opt"


def python_module_disabled():
    """True if the build was configured with -DUN_ENABLE_PYTHON=OFF."""
    cache = BUILD / "CMakeCache.txt"
    return cache.exists() and "UN_ENABLE_PYTHON:BOOL=OFF" in cache.read_text()


def require_native():
    """un_mlir.compiler with its native module. Skips the calling test
    module when nothing is built (like the un-opt tests) or the Python
    module was switched off; fails loudly if the build should have it."""
    import pytest

    if not UN_OPT.exists():
        pytest.skip("un-mlir is not built", allow_module_level=True)
    if python_module_disabled():
        pytest.skip("built with -DUN_ENABLE_PYTHON=OFF", allow_module_level=True)
    from un_mlir import compiler

    compiler.native()  # ImportError with a hint if the build lacks it
    return compiler


CUDA_HOME = pathlib.Path(os.environ.get("CUDA_HOME", "/usr/local/cuda"))
CUDA_INCLUDE = CUDA_HOME / "include"
# The CUDA runtime library (built with the toolkit) and the folder of the
# fake CUDA driver the GPU host-side tests run under (CI sets it).
CUDA_RUNTIME = BUILD / "lib" / "libun_cuda_runtime.so"
FAKECUDA = os.environ.get("UN_FAKECUDA_DIR")


def cuda_host_skips(cublaslt=False):
    """pytest marks of the tests that run the CUDA runtime under the fake
    driver: skipped without the runtime, without the fake driver, and with
    `cublaslt`, without cublasLt.h (for the fake cuBLASLt)."""
    import pytest

    marks = [
        pytest.mark.skipif(not CUDA_RUNTIME.exists(),
                           reason="un-mlir was built without the CUDA toolkit"),
        pytest.mark.skipif(not FAKECUDA or not pathlib.Path(FAKECUDA, "libcuda.so.1").exists(),
                           reason="UN_FAKECUDA_DIR does not name a folder with a fake "
                                  "libcuda.so.1"),
    ]
    if cublaslt:
        marks.append(pytest.mark.skipif(not (CUDA_INCLUDE / "cublasLt.h").exists(),
                                        reason="no cublasLt.h in the CUDA toolkit"))
    return marks


def build_fake_cublaslt(folder):
    """test/python/fake_cublaslt.c built as folder/libcublasLt.so.13 (needs
    the CUDA toolkit's cublasLt.h); returns its path."""
    import subprocess

    lib = pathlib.Path(folder) / "libcublasLt.so.13"
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", f"-I{CUDA_INCLUDE}", "-o", str(lib),
                    str(ROOT / "test" / "python" / "fake_cublaslt.c"), "-ldl"], check=True)
    return lib
