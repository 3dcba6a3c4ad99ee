//===- un-lsp-server.cpp - LSP server for un-mlir IR ------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-lsp-server/MlirLspServerMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::un::registerUNPipelineDependencies(registry);
  mlir::un::registerUNDialect(registry);
  return mlir::failed(mlir::MlirLspServerMain(argc, argv, registry));
}
