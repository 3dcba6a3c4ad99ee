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
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::un::registerUNPipelineDependencies(registry);
  mlir::un::registerUNDialect(registry);
  mlir::registerAllPasses();
  mlir::un::registerUNPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "un-mlir optimizer driver\n", registry));
}
