//===- Registration.h - Register everything un-mlir provides ----*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// One place that tools (un-opt, un-lsp-server, the mlir-opt plugin, the
// Python module) call to make the `un` dialect and its passes available.
//
//===----------------------------------------------------------------------===//

#ifndef UN_REGISTRATION_H
#define UN_REGISTRATION_H

namespace mlir {
class DialectRegistry;
namespace un {

/// Adds the `un` dialect to `registry`.
void registerUNDialect(DialectRegistry &registry);

/// Registers every un-mlir pass and pipeline with the global registry.
void registerUNPasses();

/// Adds to `registry` what the un-mlir pipelines need at run time besides
/// the `un` dialect: the upstream dialects they produce and the interfaces
/// that bufferization, convert-to-llvm and the GPU targets look up, and the
/// LLVM IR translations that gpu-module-to-binary uses (upstream's
/// registerAllDialects, registerAllExtensions and
/// registerAllToLLVMIRTranslations). A tool that runs the pipelines calls
/// it with registerUNDialect.
void registerUNPipelineDependencies(DialectRegistry &registry);

} // namespace un
} // namespace mlir

#endif // UN_REGISTRATION_H
