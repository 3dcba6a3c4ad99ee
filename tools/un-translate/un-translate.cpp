//===- un-translate.cpp - MLIR (LLVM dialect) to LLVM IR or bitcode -------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// mlir-translate's translations, plus `--mlir-to-llvmbc`: the LLVM dialect
// to LLVM bitcode. A model compiled with its weights as constants carries
// them in the module; printed as LLVM IR text they take minutes to print
// and parse again (vit_tiny: 154 MB of text), as bitcode a copy.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllTranslations.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

using namespace mlir;

int main(int argc, char **argv) {
  registerAllTranslations();
  TranslateFromMLIRRegistration toBitcode(
      "mlir-to-llvmbc", "Translate MLIR (LLVM dialect) to LLVM bitcode",
      [](Operation *op, raw_ostream &output) {
        llvm::LLVMContext context;
        std::unique_ptr<llvm::Module> module =
            translateModuleToLLVMIR(op, context);
        if (!module)
          return failure();
        llvm::WriteBitcodeToFile(*module, output);
        return success();
      },
      [](DialectRegistry &registry) {
        registry.insert<DLTIDialect, LLVM::LLVMDialect>();
        registerAllToLLVMIRTranslations(registry);
      });
  return failed(mlirTranslateMain(argc, argv, "un-mlir translation tool"));
}
