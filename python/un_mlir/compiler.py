"""Parse, transform, JIT-compile and run MLIR with the un dialect.

Thin Python layer over the native module `un_mlir._native` (pybind11 over
MLIR's C++ API; see python/src). Every upstream dialect and the `un`
dialect are registered; every upstream pass and un-mlir's passes and
pipelines are available by name.

    from un_mlir import compiler
    m = compiler.parse(text)                   # raises MLIRError
    lowered = compiler.run_pipeline(text, "un-cpu-pipeline")
    exe = compiler.compile(text)               # un-cpu-pipeline + JIT
    y = exe.infer(x, gamma, beta, running_var) # numpy in, numpy out

MLIR failures raise `MLIRError`, whose `diagnostics` carry the messages
and their "file:line:col" locations; wrong arity, dtype, byte order or
shape raise TypeError / ValueError before anything runs.

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import collections
import os

Diagnostic = collections.namedtuple("Diagnostic", "severity location message")

DEFAULT_PIPELINE = "un-cpu-pipeline"


class MLIRError(Exception):
    """Parsing, verification, a pass pipeline or JIT compilation failed.

    `summary` says what failed; `diagnostics` is the list of
    Diagnostic(severity, location, message) MLIR emitted."""

    def __init__(self, summary, diagnostics=()):
        self.summary = summary
        self.diagnostics = [Diagnostic(*d) for d in diagnostics]
        super().__init__(summary, self.diagnostics)

    def __str__(self):
        lines = [self.summary]
        lines += [f"{d.location}: {d.severity}: {d.message}" for d in self.diagnostics]
        return "\n".join(lines)


_NATIVE = None


def native():
    """The native module (raises ImportError with a hint if it is not built)."""
    global _NATIVE
    if _NATIVE is None:
        try:
            from . import _native
        except ImportError as e:
            raise ImportError(
                "un_mlir._native is not built: build un-mlir (scripts/build.sh) "
                "with pybind11 installed (pip install -r requirements.txt); it "
                "lands in build/python_packages/un_mlir") from e
        _native._set_error_class(MLIRError)
        _NATIVE = _native
    return _NATIVE


def available():
    """True if the native module can be imported."""
    try:
        native()
        return True
    except ImportError:
        return False


def parse(text, source_name="<string>"):
    """Parses and verifies MLIR text; returns a native Module (str() prints
    it, .run_pipeline(p) transforms it in place)."""
    return native().Module.parse(text, source_name)


def run_pipeline(module_text, pipeline, source_name="<string>"):
    """Runs a textual pass pipeline ("un-cpu-pipeline", "canonicalize,cse",
    "builtin.module(func.func(...))") and returns the resulting MLIR text."""
    module = parse(module_text, source_name)
    module.run_pipeline(pipeline)
    return str(module)


def is_registered(name):
    """True if `name` is a registered pass or pass pipeline."""
    return native().is_registered_pass(name)


def runtime_libraries():
    """MLIR's runtime libraries loaded into every JIT (memref copies,
    printing), from LLVM 22's library directory."""
    libdir = os.environ.get("UN_MLIR_RUNTIME_LIB_DIR", native().default_runtime_library_dir())
    libs = [os.path.join(libdir, n) for n in ("libmlir_c_runner_utils.so",
                                               "libmlir_runner_utils.so")]
    return [p for p in libs if os.path.exists(p)]


class Executable:
    """A module compiled for the host CPU. Call public functions by name:
    `exe.f(*arrays)` or `exe.call("f", *arrays)`. Tensor and memref
    arguments take numpy arrays of the exact element type (bf16: an
    ml_dtypes.bfloat16 array or uint16 bits); scalars take Python numbers.
    Tensor results come back as new numpy arrays; one result is returned
    as is, several as a tuple, none as None. Memref arguments are passed
    by reference (the function may write them); tensor arguments are
    never written."""

    def __init__(self, jit):
        self._jit = jit
        self.functions = {f["name"]: f for f in jit.functions()}

    def call(self, name, *args, free_results=True):
        results = self._jit.call(name, list(args), free_results)
        if len(results) == 0:
            return None
        if len(results) == 1:
            return results[0]
        return results

    def __getattr__(self, name):
        if name.startswith("_") or name not in self.__dict__.get("functions", {}):
            raise AttributeError(name)
        return lambda *args: self.call(name, *args)

    def signature(self, name):
        return self.functions[name]["signature"]

    @property
    def lowered_ir(self):
        """The module after the pipeline (LLVM dialect)."""
        return self._jit.lowered_ir()


def compile(module, pipeline=DEFAULT_PIPELINE, opt_level=2, shared_libs=None,
            source_name="<string>"):
    """Lowers `module` (MLIR text or a parsed Module) with `pipeline` and
    JIT-compiles it for this CPU with mlir::ExecutionEngine."""
    text = module if isinstance(module, str) else str(module)
    libs = runtime_libraries() if shared_libs is None else list(shared_libs)
    jit = native().JIT.compile(text, source_name, pipeline, int(opt_level), libs)
    return Executable(jit)


GPUObject = collections.namedtuple("GPUObject", "binary target format object")


def gpu_objects(module_text, pipeline):
    """Runs `pipeline` (which must end in gpu-module-to-binary) and returns
    a GPUObject(binary, target, format, object bytes) per gpu.binary."""
    module = parse(module_text)
    module.run_pipeline(pipeline)
    return [GPUObject(*o) for o in module.gpu_objects()]


CUDA_PIPELINE = "un-cuda-pipeline"


def _cuda_pipeline(fmt, chip, pipeline):
    if pipeline is not None:
        return pipeline
    if not is_registered(CUDA_PIPELINE):
        raise MLIRError(f"{CUDA_PIPELINE} is not registered in this build of un-mlir")
    options = f"format={fmt}" + (f" chip={chip}" if chip else "")
    return f"{CUDA_PIPELINE}{{{options}}}"


def to_ptx(module_text, chip=None, pipeline=None):
    """PTX for every gpu.binary after the CUDA pipeline
    ("un-cuda-pipeline{format=isa}", with `chip=` if given; or any
    `pipeline` ending in gpu-module-to-binary{format=isa}). Returns
    {binary name: PTX text}."""
    objects = gpu_objects(module_text, _cuda_pipeline("isa", chip, pipeline))
    if not objects:
        raise MLIRError("the pipeline produced no gpu.binary")
    return {o.binary: o.object.decode() for o in objects}


def to_cubin(module_text, chip=None, pipeline=None):
    """cubins ({binary name: bytes}) through the CUDA pipeline with
    format=bin (needs ptxas on PATH)."""
    objects = gpu_objects(module_text, _cuda_pipeline("bin", chip, pipeline))
    if not objects:
        raise MLIRError("the pipeline produced no gpu.binary")
    return {o.binary: o.object for o in objects}
