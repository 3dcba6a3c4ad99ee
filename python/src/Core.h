//===- Core.h - The C++ API behind the un_mlir._native module ---*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What the Python module needs from MLIR, behind an interface that uses only
// the standard library. Core.cpp includes MLIR and is compiled like the rest
// of LLVM (no RTTI, no exceptions); the pybind11 layer (Module.cpp) needs
// RTTI and exceptions and never sees an MLIR header. Errors are reported as
// values (`Status`), never thrown.
//
//===----------------------------------------------------------------------===//

#ifndef UN_PYTHON_CORE_H
#define UN_PYTHON_CORE_H

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace un_python {

/// One MLIR diagnostic: severity ("error", "warning", "note", "remark"),
/// location ("file:line:col" when the IR has one) and message. Notes
/// attached to a diagnostic follow it as separate entries.
struct Diagnostic {
  std::string severity;
  std::string location;
  std::string message;
};

/// The outcome of an operation: `ok`, or a summary plus the diagnostics
/// MLIR emitted.
struct Status {
  bool ok = true;
  std::string summary;
  std::vector<Diagnostic> diagnostics;

  static Status failure(std::string summary,
                        std::vector<Diagnostic> diagnostics = {}) {
    Status s;
    s.ok = false;
    s.summary = std::move(summary);
    s.diagnostics = std::move(diagnostics);
    return s;
  }
};

class ModuleImpl;

/// A parsed and verified MLIR module with its own context (every upstream
/// dialect, extension and translation plus the `un` dialect registered).
class Module {
public:
  /// Parses and verifies `text`; `sourceName` names it in locations.
  static std::unique_ptr<Module>
  parse(const std::string &text, const std::string &sourceName, Status &status);
  ~Module();

  /// Runs a textual pass pipeline ("un-cpu-pipeline",
  /// "canonicalize,cse", "builtin.module(...)", "func.func(...)") on the
  /// module in place. The module is verified after every pass.
  Status runPipeline(const std::string &pipeline);

  /// The module as MLIR text (generic form if `generic`).
  std::string str(bool generic = false, bool debugInfo = false) const;

  /// Every `gpu.binary` in the module: (binary name, target, object bytes
  /// (PTX text for format=isa, a cubin for format=bin)).
  struct GPUObject {
    std::string binary;
    std::string target;
    std::string format;
    std::string object;
  };
  std::vector<GPUObject> gpuObjects() const;

  ModuleImpl &impl() { return *impl_; }

private:
  Module();
  std::unique_ptr<ModuleImpl> impl_;
};

/// True if `name` is a registered pass or pass pipeline.
bool isRegisteredPass(const std::string &name);

/// The names of every registered pass pipeline and pass whose name starts
/// with `prefix`.
std::vector<std::string> registeredPasses(const std::string &prefix);

/// Element types the JIT passes to and from Python.
enum class ElementType { F16, BF16, F32, F64, I1, I8, I16, I32, I64, Index };

/// Bytes per element as stored in a memref.
int64_t elementSize(ElementType type);
/// "f32", "bf16", "i1", "index", ...
const char *elementTypeName(ElementType type);

/// The type of one argument or result of a JIT-compiled function, recorded
/// from the `func.func` signature before lowering.
struct ValueSpec {
  bool isShaped = false; ///< ranked tensor or memref (else a scalar)
  bool isTensor = false; ///< a tensor (value semantics) rather than a memref
  ElementType elementType = ElementType::F32;
  std::vector<int64_t> shape; ///< -1 for a dynamic dim
  std::string mlirType;       ///< as printed, for messages
};

struct FunctionSpec {
  std::string name;
  std::vector<ValueSpec> args;
  std::vector<ValueSpec> results;
};

/// One argument of a call. Shaped: `data`, `shape` and `strides` (in
/// elements) of a buffer that lives for the duration of the call. Scalar:
/// the value in `intValue` (integers, index, i1) or `floatValue`.
struct ArgValue {
  void *data = nullptr;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  int64_t intValue = 0;
  double floatValue = 0;
  /// [begin, end) of the memory the caller owns; a returned buffer inside
  /// it is never freed.
  const char *rangeBegin = nullptr;
  const char *rangeEnd = nullptr;
};

/// One result of a call: shaped results are copied into `data` (a new
/// contiguous buffer of `shape`); the compiled code's buffer is freed.
struct ResultValue {
  std::vector<int64_t> shape;
  std::vector<char> data;
  int64_t intValue = 0;
  double floatValue = 0;
};

class JITImpl;

/// A module lowered by a pipeline to the LLVM dialect and compiled for the
/// host CPU with mlir::ExecutionEngine.
class JIT {
public:
  /// Lowers `module` (consumed) with `pipeline` and JIT-compiles it.
  /// `sharedLibs` are loaded for symbol resolution (e.g. MLIR's C runner
  /// utils, needed by memref copies). `optLevel` in 0..3.
  static std::unique_ptr<JIT> create(std::unique_ptr<Module> module,
                                     const std::string &pipeline, int optLevel,
                                     const std::vector<std::string> &sharedLibs,
                                     Status &status);
  ~JIT();

  const std::vector<FunctionSpec> &functions() const;
  const FunctionSpec *lookup(const std::string &name) const;

  /// Calls `name`; arguments already checked against its spec by the
  /// caller. Returns results in order. `freeResults`: free the buffers the
  /// compiled code returns (it hands over ownership, as un-cpu-pipeline's
  /// ownership-based deallocation guarantees).
  Status call(const std::string &name, const std::vector<ArgValue> &args,
              std::vector<ResultValue> &results, bool freeResults);

  /// The lowered module (LLVM dialect) as text.
  const std::string &loweredIR() const;

private:
  JIT();
  std::unique_ptr<JITImpl> impl_;
};

/// Default directory of MLIR's runtime libraries (libmlir_c_runner_utils).
std::string defaultRuntimeLibraryDir();

} // namespace un_python

#endif // UN_PYTHON_CORE_H
