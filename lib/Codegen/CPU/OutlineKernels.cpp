//===- OutlineKernels.cpp - One function per distinct kernel ---------------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Every kernel region (KernelRegion.h) becomes a call of a private function
// whose arguments are the values the region uses from outside (constants
// are copied in instead). Kernels whose functions come out identical (the
// same body on the same argument types: the same layer of a model repeated
// N times) share one function, so LLVM compiles each distinct kernel once,
// as IREE deduplicates its dispatches.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/Passes.h"

#include "KernelRegion.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/StringMap.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPUOUTLINEKERNELS
#include "un/Codegen/CPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

/// Copies the constants that `region` uses from outside into it.
static void sinkConstants(Region &region) {
  SetVector<Value> used;
  getUsedValuesDefinedAbove(region, used);
  OpBuilder b(&region.front(), region.front().begin());
  for (Value v : used) {
    Operation *def = v.getDefiningOp();
    if (!def || !matchPattern(v, m_Constant()))
      continue;
    Operation *copy = b.clone(*def);
    replaceAllUsesInRegionWith(v, copy->getResult(0), region);
  }
}

/// The text of `fn` as it would print under a fixed name: equal texts are
/// equal kernels.
static std::string bodyKey(func::FuncOp fn) {
  StringAttr name = fn.getSymNameAttr();
  fn.setSymName("kernel");
  std::string key;
  llvm::raw_string_ostream os(key);
  fn->print(os, OpPrintingFlags().useLocalScope());
  fn.setSymNameAttr(name);
  return key;
}

namespace {

struct UNCPUOutlineKernelsPass
    : un::impl::UNCPUOutlineKernelsBase<UNCPUOutlineKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<scf::ExecuteRegionOp> kernels;
    module.walk([&](scf::ExecuteRegionOp op) {
      if (op->hasAttr(un::kKernelAttrName) && op.getNumResults() == 0 &&
          op.getRegion().hasOneBlock())
        kernels.push_back(op);
    });

    llvm::StringMap<func::FuncOp> byKey;
    OpBuilder moduleBuilder = OpBuilder::atBlockEnd(module.getBody());
    for (scf::ExecuteRegionOp kernel : kernels) {
      Region &region = kernel.getRegion();
      sinkConstants(region);
      SetVector<Value> captured;
      getUsedValuesDefinedAbove(region, captured);

      // The function: the region's block, captured values as arguments.
      Location loc = kernel.getLoc();
      auto type = FunctionType::get(&getContext(),
                                    TypeRange(captured.getArrayRef()), {});
      auto kind = kernel->getAttrOfType<StringAttr>(un::kKernelAttrName);
      auto fn = func::FuncOp::create(moduleBuilder, loc,
                                     ("__un_" + kind.getValue()).str(), type);
      fn.setPrivate();
      fn->setAttr("llvm.linkage", LLVM::LinkageAttr::get(
                                      &getContext(), LLVM::Linkage::Internal));
      // Compiled once, not once per call site: LLVM would otherwise inline
      // the smaller kernels back into every layer. The caller's LLVM
      // function attributes (the vector width the tiles need) carry over.
      SmallVector<Attribute> passthrough = {
          StringAttr::get(&getContext(), "noinline")};
      if (auto parent = kernel->getParentOfType<FunctionOpInterface>())
        if (auto attrs = parent->getAttrOfType<ArrayAttr>("passthrough"))
          passthrough.append(attrs.begin(), attrs.end());
      fn->setAttr("passthrough", ArrayAttr::get(&getContext(), passthrough));
      fn.getBody().takeBody(region);
      Block &entry = fn.getBody().front();
      for (Value v : captured) {
        BlockArgument arg = entry.addArgument(v.getType(), v.getLoc());
        replaceAllUsesInRegionWith(v, arg, fn.getBody());
      }
      Operation *yield = entry.getTerminator();
      OpBuilder(yield).create<func::ReturnOp>(yield->getLoc());
      yield->erase();

      // Identical to an earlier kernel: call that one.
      std::string key = bodyKey(fn);
      auto [it, inserted] = byKey.try_emplace(key, fn);
      if (inserted)
        symbols.insert(fn); // unique name
      else
        fn.erase();
      OpBuilder b(kernel);
      func::CallOp::create(b, loc, it->second, captured.getArrayRef());
      kernel.erase();
    }
  }
};

} // namespace
