//===- un-opt.cpp - The un-mlir optimizer driver ----------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// mlir-opt with the `un` dialect and un-mlir's passes and pipelines added
// to every upstream dialect, extension and pass.
//
//===----------------------------------------------------------------------===//

#include "un/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR (un-cuda-pipeline).
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::un::registerUNDialect(registry);
  mlir::registerAllPasses();
  mlir::un::registerUNPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "un-mlir optimizer driver\n", registry));
}
