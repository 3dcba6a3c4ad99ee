//===- un-plugin.cpp - un-mlir as an mlir-opt plugin ------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Loads into any MlirOptMain tool built from the same LLVM/MLIR (Debian's
// mlir-opt-22 among them):
//
//   mlir-opt-22 --load-dialect-plugin=UNPlugin.so \
//               --load-pass-plugin=UNPlugin.so ...
//
//===----------------------------------------------------------------------===//

#include "un/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

using namespace mlir;

extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "UN", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) { un::registerUNDialect(*registry); }};
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "UNPasses", LLVM_VERSION_STRING,
          []() { un::registerUNPasses(); }};
}
