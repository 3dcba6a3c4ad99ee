//===- Core.cpp - The C++ API behind the un_mlir._native module -*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Parsing, pass pipelines, GPU object extraction and CPU JIT execution on
// top of MLIR's C++ API. See Core.h.
//
// The JIT calls the packed wrapper `_mlir_<name>(void **)` that
// mlir::ExecutionEngine generates for every function: one pointer per
// LLVM-level argument (a memref of rank r is expanded into allocated
// pointer, aligned pointer, offset, r sizes and r strides), then one
// pointer to storage for the return value (a memref descriptor struct,
// a scalar, or a struct of those for several results). The layout of that
// storage is read from the lowered `llvm.func` with MLIR's data layout.
//
//===----------------------------------------------------------------------===//

#include "Core.h"

#include "un/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

using namespace mlir;
using un_python::ArgValue;
using un_python::ElementType;
using un_python::FunctionSpec;
using un_python::ResultValue;
using un_python::Status;
using un_python::ValueSpec;

#ifndef UN_MLIR_RUNTIME_LIB_DIR
#define UN_MLIR_RUNTIME_LIB_DIR "/usr/lib/llvm-22/lib"
#endif

//===----------------------------------------------------------------------===//
// Registration and diagnostics
//===----------------------------------------------------------------------===//

/// Passes, pipelines and the native target are registered once per process.
static void initializeOnce() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    registerAllPasses();
    mlir::un::registerUNPasses();
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

/// A context that knows every upstream dialect, extension and LLVM IR
/// translation, and the `un` dialect. Single-threaded: the machines we run
/// on are small and shared, and diagnostics stay in order.
static std::unique_ptr<MLIRContext> createContext() {
  initializeOnce();
  DialectRegistry registry;
  mlir::un::registerUNPipelineDependencies(registry);
  mlir::un::registerUNDialect(registry);
  auto context =
      std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
  context->loadAllAvailableDialects();
  return context;
}

/// "file:line:col" for the first file location inside `loc`, else the
/// location as MLIR prints it.
static std::string formatLocation(Location loc) {
  std::string out;
  loc->walk([&](Location inner) {
    if (auto file = dyn_cast<FileLineColLoc>(inner)) {
      out = (file.getFilename().str() + ":" + std::to_string(file.getLine()) +
             ":" + std::to_string(file.getColumn()));
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (out.empty()) {
    llvm::raw_string_ostream os(out);
    loc.print(os);
  }
  return out;
}

static const char *severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

namespace {
/// Collects every diagnostic emitted on a context while it is alive.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *context)
      : handler(context, [this](mlir::Diagnostic &diag) {
          record(diag);
          return success();
        }) {}

  std::vector<un_python::Diagnostic> diagnostics;

  Status failure(std::string summary) {
    return Status::failure(std::move(summary), std::move(diagnostics));
  }

private:
  void record(mlir::Diagnostic &diag) {
    diagnostics.push_back({severityName(diag.getSeverity()),
                           formatLocation(diag.getLocation()), diag.str()});
    for (mlir::Diagnostic &note : diag.getNotes())
      diagnostics.push_back(
          {"note", formatLocation(note.getLocation()), note.str()});
  }

  ScopedDiagnosticHandler handler;
};
} // namespace

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

namespace un_python {
class ModuleImpl {
public:
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
};
} // namespace un_python

using un_python::Module;
using un_python::ModuleImpl;

Module::Module() : impl_(std::make_unique<ModuleImpl>()) {}
Module::~Module() = default;

std::unique_ptr<Module> Module::parse(const std::string &text,
                                      const std::string &sourceName,
                                      Status &status) {
  std::unique_ptr<Module> result(new Module());
  ModuleImpl &impl = *result->impl_;
  impl.context = createContext();
  DiagnosticCollector collector(impl.context.get());
  ParserConfig config(impl.context.get(), /*verifyAfterParse=*/true);
  impl.module = parseSourceString<ModuleOp>(text, config, sourceName);
  if (!impl.module) {
    status =
        collector.failure("failed to parse or verify MLIR from " + sourceName);
    return nullptr;
  }
  status = Status();
  return result;
}

/// Strips leading dashes ("--un-cpu-pipeline") and a "builtin.module(...)"
/// wrapper: pipelines are nested under a module pass manager.
static std::string normalizePipeline(std::string pipeline) {
  StringRef text = StringRef(pipeline).trim();
  text = text.ltrim('-');
  if (text.consume_front("builtin.module(") && text.consume_back(")"))
    text = text.trim();
  return text.str();
}

Status Module::runPipeline(const std::string &pipeline) {
  MLIRContext *context = impl_->context.get();
  DiagnosticCollector collector(context);
  PassManager pm(context, ModuleOp::getOperationName());
  pm.enableVerifier(true);
  std::string text = normalizePipeline(pipeline);
  std::string parseErrors;
  llvm::raw_string_ostream errorStream(parseErrors);
  if (failed(parsePassPipeline(text, pm, errorStream)))
    return collector.failure("invalid pass pipeline '" + pipeline +
                             "': " + StringRef(parseErrors).trim().str());
  if (failed(pm.run(*impl_->module)))
    return collector.failure("pass pipeline '" + pipeline + "' failed");
  return Status();
}

std::string Module::str(bool generic, bool debugInfo) const {
  std::string out;
  llvm::raw_string_ostream os(out);
  OpPrintingFlags flags;
  if (generic)
    flags.printGenericOpForm();
  if (debugInfo)
    flags.enableDebugInfo();
  impl_->module->print(os, flags);
  return out;
}

std::vector<Module::GPUObject> Module::gpuObjects() const {
  std::vector<GPUObject> objects;
  impl_->module->walk([&](gpu::BinaryOp binary) {
    for (Attribute attr : binary.getObjects()) {
      auto object = dyn_cast<gpu::ObjectAttr>(attr);
      if (!object)
        continue;
      GPUObject entry;
      entry.binary = binary.getSymName().str();
      llvm::raw_string_ostream os(entry.target);
      object.getTarget().print(os);
      entry.format = gpu::stringifyCompilationTarget(object.getFormat()).str();
      entry.object = object.getObject().getValue().str();
      objects.push_back(std::move(entry));
    }
  });
  return objects;
}

bool un_python::isRegisteredPass(const std::string &name) {
  initializeOnce();
  return PassPipelineInfo::lookup(name) || PassInfo::lookup(name);
}

std::string un_python::defaultRuntimeLibraryDir() {
  return UN_MLIR_RUNTIME_LIB_DIR;
}

//===----------------------------------------------------------------------===//
// Element types and signatures
//===----------------------------------------------------------------------===//

int64_t un_python::elementSize(ElementType type) {
  switch (type) {
  case ElementType::I1:
  case ElementType::I8:
    return 1;
  case ElementType::F16:
  case ElementType::BF16:
  case ElementType::I16:
    return 2;
  case ElementType::F32:
  case ElementType::I32:
    return 4;
  case ElementType::F64:
  case ElementType::I64:
  case ElementType::Index:
    return 8;
  }
  return 8;
}

const char *un_python::elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  case ElementType::F32:
    return "f32";
  case ElementType::F64:
    return "f64";
  case ElementType::I1:
    return "i1";
  case ElementType::I8:
    return "i8";
  case ElementType::I16:
    return "i16";
  case ElementType::I32:
    return "i32";
  case ElementType::I64:
    return "i64";
  case ElementType::Index:
    return "index";
  }
  return "?";
}

static std::optional<ElementType> toElementType(Type type) {
  if (type.isF16())
    return ElementType::F16;
  if (type.isBF16())
    return ElementType::BF16;
  if (type.isF32())
    return ElementType::F32;
  if (type.isF64())
    return ElementType::F64;
  if (type.isIndex())
    return ElementType::Index;
  if (auto integer = dyn_cast<IntegerType>(type)) {
    if (integer.isUnsigned())
      return std::nullopt;
    switch (integer.getWidth()) {
    case 1:
      return ElementType::I1;
    case 8:
      return ElementType::I8;
    case 16:
      return ElementType::I16;
    case 32:
      return ElementType::I32;
    case 64:
      return ElementType::I64;
    default:
      return std::nullopt;
    }
  }
  return std::nullopt;
}

static std::string typeString(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  type.print(os);
  return out;
}

/// The spec of one argument or result type, or an explanation of why the
/// JIT cannot pass it.
static FailureOr<ValueSpec> toValueSpec(Type type, std::string &why) {
  ValueSpec spec;
  spec.mlirType = typeString(type);
  Type element = type;
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    spec.isShaped = spec.isTensor = true;
    element = tensor.getElementType();
    spec.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  } else if (auto memref = dyn_cast<MemRefType>(type)) {
    if (!memref.getLayout().isIdentity()) {
      why = "memrefs with a non-identity layout are not supported";
      return failure();
    }
    spec.isShaped = true;
    element = memref.getElementType();
    spec.shape.assign(memref.getShape().begin(), memref.getShape().end());
  } else if (isa<UnrankedTensorType, UnrankedMemRefType>(type)) {
    why = "unranked tensors and memrefs are not supported";
    return failure();
  }
  for (int64_t &dim : spec.shape)
    if (ShapedType::isDynamic(dim))
      dim = -1;
  std::optional<ElementType> elementType = toElementType(element);
  if (!elementType) {
    why = "element type " + typeString(element) +
          " is not supported (f16, bf16, f32, f64, i1, i8, i16, i32, i64, "
          "index are)";
    return failure();
  }
  spec.elementType = *elementType;
  return spec;
}

//===----------------------------------------------------------------------===//
// JIT
//===----------------------------------------------------------------------===//

namespace {
/// How to call one lowered function.
struct CallInfo {
  bool supported = true;
  std::string why;        ///< why it cannot be called, if !supported
  unsigned numParams = 0; ///< LLVM-level parameters
  bool returnsValue = false;
  int64_t returnSize = 0;             ///< bytes of the return storage
  std::vector<int64_t> resultOffsets; ///< byte offset of each result
};
} // namespace

namespace un_python {
class JITImpl {
public:
  std::unique_ptr<Module> module; ///< lowered; keeps its context alive
  std::unique_ptr<ExecutionEngine> engine;
  std::vector<FunctionSpec> functions;
  std::map<std::string, CallInfo> calls;
  mutable std::string loweredIR;
  mutable std::once_flag printed;
};
} // namespace un_python

using un_python::JIT;
using un_python::JITImpl;

JIT::JIT() : impl_(std::make_unique<JITImpl>()) {}
JIT::~JIT() = default;

const std::vector<FunctionSpec> &JIT::functions() const {
  return impl_->functions;
}

const FunctionSpec *JIT::lookup(const std::string &name) const {
  for (const FunctionSpec &function : impl_->functions)
    if (function.name == name)
      return &function;
  return nullptr;
}

const std::string &JIT::loweredIR() const {
  std::call_once(impl_->printed,
                 [&] { impl_->loweredIR = impl_->module->str(); });
  return impl_->loweredIR;
}

static unsigned llvmParamCount(const ValueSpec &spec) {
  return spec.isShaped ? 3 + 2 * spec.shape.size() : 1;
}

/// Checks the lowered `llvm.func` against the recorded signature and
/// computes where each result lands in the return storage.
static CallInfo analyzeLoweredFunction(ModuleOp module,
                                       const FunctionSpec &spec) {
  CallInfo info;
  auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(spec.name);
  if (!func || func.isExternal()) {
    info.supported = false;
    info.why = "the pipeline did not produce an llvm.func @" + spec.name;
    return info;
  }
  LLVM::LLVMFunctionType type = func.getFunctionType();
  unsigned expected = 0;
  for (const ValueSpec &arg : spec.args)
    expected += llvmParamCount(arg);
  info.numParams = type.getNumParams();
  if (info.numParams != expected || type.isVarArg()) {
    info.supported = false;
    info.why = "the lowered @" + spec.name + " has " +
               std::to_string(info.numParams) +
               " LLVM parameters where the expanded memref calling "
               "convention gives " +
               std::to_string(expected);
    return info;
  }
  Type returnType = type.getReturnType();
  info.returnsValue = !isa<LLVM::LLVMVoidType>(returnType);
  if (info.returnsValue != !spec.results.empty()) {
    info.supported = false;
    info.why = "the lowered @" + spec.name + " does not return its results";
    return info;
  }
  if (!info.returnsValue)
    return info;
  DataLayout layout = DataLayout::closest(func);
  info.returnSize = layout.getTypeSize(returnType);
  if (spec.results.size() == 1) {
    info.resultOffsets.push_back(0);
    return info;
  }
  auto structType = dyn_cast<LLVM::LLVMStructType>(returnType);
  if (!structType || structType.getBody().size() != spec.results.size()) {
    info.supported = false;
    info.why = "the lowered @" + spec.name +
               " does not return a struct of its results";
    return info;
  }
  int64_t offset = 0;
  for (Type field : structType.getBody()) {
    offset = llvm::alignTo(offset, layout.getTypeABIAlignment(field));
    info.resultOffsets.push_back(offset);
    offset += layout.getTypeSize(field);
  }
  return info;
}

std::unique_ptr<JIT> JIT::create(std::unique_ptr<Module> module,
                                 const std::string &pipeline, int optLevel,
                                 const std::vector<std::string> &sharedLibs,
                                 Status &status) {
  std::unique_ptr<JIT> jit(new JIT());
  JITImpl &impl = *jit->impl_;
  ModuleOp moduleOp = *module->impl().module;
  MLIRContext *context = moduleOp.getContext();
  std::map<std::string, std::string> unsupported;

  // Record the signatures the caller sees, before lowering. Tensor
  // arguments are marked read-only so that bufferization never writes
  // into the caller's arrays.
  for (auto func : moduleOp.getOps<func::FuncOp>()) {
    if (func.isExternal() || !func.isPublic())
      continue;
    FunctionSpec spec;
    spec.name = func.getSymName().str();
    std::string why;
    FunctionType type = func.getFunctionType();
    for (auto [index, argType] : llvm::enumerate(type.getInputs())) {
      FailureOr<ValueSpec> arg = toValueSpec(argType, why);
      if (failed(arg)) {
        unsupported[spec.name] =
            "argument " + std::to_string(index) + ": " + why;
        break;
      }
      spec.args.push_back(*arg);
      if (arg->isTensor && !func.getArgAttr(index, "bufferization.writable"))
        func.setArgAttr(index, "bufferization.writable",
                        BoolAttr::get(context, false));
    }
    for (auto [index, resultType] : llvm::enumerate(type.getResults())) {
      if (unsupported.count(spec.name))
        break;
      FailureOr<ValueSpec> result = toValueSpec(resultType, why);
      if (failed(result)) {
        unsupported[spec.name] = "result " + std::to_string(index) + ": " + why;
        break;
      }
      spec.results.push_back(*result);
    }
    impl.functions.push_back(std::move(spec));
  }

  status = module->runPipeline(pipeline);
  if (!status.ok)
    return nullptr;

  for (const FunctionSpec &spec : impl.functions) {
    CallInfo info;
    auto it = unsupported.find(spec.name);
    if (it != unsupported.end()) {
      info.supported = false;
      info.why = it->second;
    } else {
      info = analyzeLoweredFunction(moduleOp, spec);
    }
    impl.calls[spec.name] = std::move(info);
  }

  // Compile for the host, with LLVM's optimizations at `optLevel` tuned to
  // this CPU (without a target machine the vectorizers see no registers).
  DiagnosticCollector collector(context);
  auto targetBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!targetBuilder) {
    status = Status::failure("cannot detect the host target: " +
                             llvm::toString(targetBuilder.takeError()));
    return nullptr;
  }
  auto targetMachine = targetBuilder->createTargetMachine();
  if (!targetMachine) {
    status = Status::failure("cannot create a target machine: " +
                             llvm::toString(targetMachine.takeError()));
    return nullptr;
  }
  optLevel = std::max(0, std::min(3, optLevel));
  auto transformer =
      makeOptimizingTransformer(optLevel, 0, targetMachine->get());
  std::vector<StringRef> libs(sharedLibs.begin(), sharedLibs.end());
  ExecutionEngineOptions options;
  options.transformer = transformer;
  options.jitCodeGenOptLevel = static_cast<llvm::CodeGenOptLevel>(optLevel);
  options.sharedLibPaths = libs;
  options.enableGDBNotificationListener = false;
  options.enablePerfNotificationListener = false;
  auto engine = ExecutionEngine::create(moduleOp, options);
  if (!engine) {
    std::string message = llvm::toString(engine.takeError());
    status = collector.failure("JIT compilation failed: " + message);
    return nullptr;
  }
  impl.engine = std::move(*engine);
  impl.module = std::move(module);
  status = Status();
  return jit;
}

/// Bits of `value` as an IEEE half or bfloat.
static uint16_t toHalfBits(double value, bool bf16) {
  llvm::APFloat f(value);
  bool lost = false;
  f.convert(bf16 ? llvm::APFloat::BFloat() : llvm::APFloat::IEEEhalf(),
            llvm::APFloat::rmNearestTiesToEven, &lost);
  return static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
}

static double fromHalfBits(uint16_t bits, bool bf16) {
  llvm::APFloat f(bf16 ? llvm::APFloat::BFloat() : llvm::APFloat::IEEEhalf(),
                  llvm::APInt(16, bits));
  bool lost = false;
  f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  return f.convertToDouble();
}

/// Stores a scalar argument in the low bytes of `slot` (little endian), as
/// the packed wrapper loads it with its LLVM type.
static void storeScalar(const ValueSpec &spec, const ArgValue &arg,
                        int64_t &slot) {
  slot = 0;
  switch (spec.elementType) {
  case ElementType::F32: {
    float f = static_cast<float>(arg.floatValue);
    std::memcpy(&slot, &f, sizeof(f));
    return;
  }
  case ElementType::F64:
    std::memcpy(&slot, &arg.floatValue, sizeof(double));
    return;
  case ElementType::F16:
  case ElementType::BF16: {
    uint16_t bits =
        toHalfBits(arg.floatValue, spec.elementType == ElementType::BF16);
    std::memcpy(&slot, &bits, sizeof(bits));
    return;
  }
  case ElementType::I1:
    slot = arg.intValue ? 1 : 0;
    return;
  default:
    slot = arg.intValue; // low bytes hold the truncated value
    return;
  }
}

static void loadScalar(const ValueSpec &spec, const char *base,
                       ResultValue &result) {
  switch (spec.elementType) {
  case ElementType::F32: {
    float f;
    std::memcpy(&f, base, sizeof(f));
    result.floatValue = f;
    return;
  }
  case ElementType::F64:
    std::memcpy(&result.floatValue, base, sizeof(double));
    return;
  case ElementType::F16:
  case ElementType::BF16: {
    uint16_t bits;
    std::memcpy(&bits, base, sizeof(bits));
    result.floatValue =
        fromHalfBits(bits, spec.elementType == ElementType::BF16);
    return;
  }
  case ElementType::I1:
    result.intValue = (*reinterpret_cast<const uint8_t *>(base)) & 1;
    return;
  case ElementType::I8:
    result.intValue = *reinterpret_cast<const int8_t *>(base);
    return;
  case ElementType::I16: {
    int16_t v;
    std::memcpy(&v, base, sizeof(v));
    result.intValue = v;
    return;
  }
  case ElementType::I32: {
    int32_t v;
    std::memcpy(&v, base, sizeof(v));
    result.intValue = v;
    return;
  }
  case ElementType::I64:
  case ElementType::Index:
    std::memcpy(&result.intValue, base, sizeof(int64_t));
    return;
  }
}

/// Copies a strided buffer into a contiguous one, row by row.
static void copyStrided(const char *src, char *dst,
                        const std::vector<int64_t> &sizes,
                        const std::vector<int64_t> &strides,
                        int64_t elementSize) {
  size_t rank = sizes.size();
  int64_t total = 1;
  for (int64_t size : sizes)
    total *= size;
  if (total == 0)
    return;
  if (rank == 0) {
    std::memcpy(dst, src, elementSize);
    return;
  }
  int64_t inner = sizes[rank - 1];
  bool innerContiguous = strides[rank - 1] == 1;
  std::vector<int64_t> index(rank, 0);
  for (int64_t done = 0; done < total; done += inner) {
    int64_t offset = 0;
    for (size_t d = 0; d + 1 < rank; ++d)
      offset += index[d] * strides[d];
    const char *row = src + offset * elementSize;
    if (innerContiguous) {
      std::memcpy(dst, row, inner * elementSize);
    } else {
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(dst + i * elementSize,
                    row + i * strides[rank - 1] * elementSize, elementSize);
    }
    dst += inner * elementSize;
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
}

Status JIT::call(const std::string &name, const std::vector<ArgValue> &args,
                 std::vector<ResultValue> &results, bool freeResults) {
  const FunctionSpec *spec = lookup(name);
  if (!spec)
    return Status::failure("no public function @" + name + " in the module");
  const CallInfo &info = impl_->calls[name];
  if (!info.supported)
    return Status::failure("@" + name + " cannot be called: " + info.why);
  if (args.size() != spec->args.size())
    return Status::failure("@" + name + " takes " +
                           std::to_string(spec->args.size()) +
                           " arguments, got " + std::to_string(args.size()));

  // One 8-byte slot per LLVM-level parameter, then a pointer to each.
  std::vector<int64_t> slots(info.numParams, 0);
  std::vector<void *> packed;
  packed.reserve(info.numParams + 1);
  size_t next = 0;
  for (auto [argSpec, arg] : llvm::zip(spec->args, args)) {
    if (!argSpec.isShaped) {
      storeScalar(argSpec, arg, slots[next++]);
      continue;
    }
    size_t rank = argSpec.shape.size();
    if (arg.shape.size() != rank || arg.strides.size() != rank)
      return Status::failure("@" + name + ": argument of the wrong rank");
    slots[next++] = reinterpret_cast<intptr_t>(arg.data); // allocated
    slots[next++] = reinterpret_cast<intptr_t>(arg.data); // aligned
    slots[next++] = 0;                                    // offset
    for (int64_t size : arg.shape)
      slots[next++] = size;
    for (int64_t stride : arg.strides)
      slots[next++] = stride;
  }
  for (int64_t &slot : slots)
    packed.push_back(&slot);
  std::vector<uint64_t> returned(
      static_cast<size_t>(llvm::divideCeil(info.returnSize, 8)) + 1, 0);
  if (info.returnsValue)
    packed.push_back(returned.data());

  if (llvm::Error error = impl_->engine->invokePacked(name, packed))
    return Status::failure("cannot call @" + name + ": " +
                           llvm::toString(std::move(error)));

  // Copy every result out; free the buffers the callee handed over (each
  // once, never one inside an argument).
  results.clear();
  llvm::SmallPtrSet<void *, 8> toFree;
  const char *base = reinterpret_cast<const char *>(returned.data());
  for (auto [resultSpec, offset] :
       llvm::zip(spec->results, info.resultOffsets)) {
    ResultValue result;
    const char *field = base + offset;
    if (!resultSpec.isShaped) {
      loadScalar(resultSpec, field, result);
      results.push_back(std::move(result));
      continue;
    }
    size_t rank = resultSpec.shape.size();
    void *allocated, *aligned;
    int64_t elementOffset;
    std::memcpy(&allocated, field, sizeof(void *));
    std::memcpy(&aligned, field + 8, sizeof(void *));
    std::memcpy(&elementOffset, field + 16, sizeof(int64_t));
    std::vector<int64_t> sizes(rank), strides(rank);
    if (rank) {
      std::memcpy(sizes.data(), field + 24, rank * sizeof(int64_t));
      std::memcpy(strides.data(), field + 24 + 8 * rank,
                  rank * sizeof(int64_t));
    }
    int64_t elementBytes = elementSize(resultSpec.elementType);
    int64_t total = 1;
    for (int64_t size : sizes)
      total *= size;
    result.shape = sizes;
    result.data.resize(static_cast<size_t>(total * elementBytes));
    copyStrided(static_cast<const char *>(aligned) +
                    elementOffset * elementBytes,
                result.data.data(), sizes, strides, elementBytes);
    bool insideArgument = false;
    for (const ArgValue &arg : args)
      if (arg.rangeBegin &&
          static_cast<const char *>(allocated) >= arg.rangeBegin &&
          static_cast<const char *>(allocated) < arg.rangeEnd)
        insideArgument = true;
    if (allocated && !insideArgument)
      toFree.insert(allocated);
    results.push_back(std::move(result));
  }
  if (freeResults)
    for (void *pointer : toFree)
      std::free(pointer);
  return Status();
}
