//===- OutlineKernels.cpp - One function per distinct kernel
//---------------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Every kernel region (KernelBuilder.h) becomes a call of a private function
// whose arguments are the values the region uses from outside (constants
// are copied in instead). Kernels whose functions come out identical (the
// same body on the same argument types: the same layer of a model repeated
// N times; compared structurally) share one function, so LLVM compiles
// each distinct kernel once, as IREE deduplicates its dispatches.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/Passes.h"

#include "KernelBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

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

/// Whether `a` and `b` are the same kernel: the same type, attributes
/// and body (block arguments matched by position).
static bool sameKernel(func::FuncOp a, func::FuncOp b) {
  if (a.getFunctionType() != b.getFunctionType())
    return false;
  auto attrsBut = [](func::FuncOp fn) {
    NamedAttrList attrs(fn->getAttrDictionary());
    attrs.erase(fn.getSymNameAttrName());
    return attrs.getDictionary(fn.getContext());
  };
  return attrsBut(a) == attrsBut(b) &&
         OperationEquivalence::isRegionEquivalentTo(
             &a.getBody(), &b.getBody(), OperationEquivalence::IgnoreLocations);
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

    // Kernels by function type: the candidates to compare a new one with.
    DenseMap<Type, SmallVector<func::FuncOp>> byType;
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
      // the smaller kernels back into every layer. The vector width the
      // caller was marked with for the kernel (requireVectorWidth) carries
      // over, none of its other LLVM attributes.
      SmallVector<Attribute> passthrough = {
          StringAttr::get(&getContext(), "noinline")};
      if (auto parent = kernel->getParentOfType<FunctionOpInterface>())
        if (auto attrs = parent->getAttrOfType<ArrayAttr>("passthrough"))
          for (Attribute attr : attrs)
            if (auto pair = dyn_cast<ArrayAttr>(attr);
                pair && pair.size() == 2 &&
                pair[0] ==
                    StringAttr::get(&getContext(), "min-legal-vector-width"))
              passthrough.push_back(attr);
      fn->setAttr("passthrough", ArrayAttr::get(&getContext(), passthrough));
      // Buffers of static shape and identity layout go as bare pointers:
      // a call then passes one pointer per buffer, not a descriptor of
      // 3 + 2 x rank values to take apart and rebuild.
      bool bare = llvm::all_of(type.getInputs(), [](Type t) {
        auto memref = dyn_cast<MemRefType>(t);
        return !memref ||
               (memref.hasStaticShape() && memref.getLayout().isIdentity());
      });
      if (bare)
        fn->setAttr("llvm.bareptr", UnitAttr::get(&getContext()));
      fn.getBody().takeBody(region);
      Block &entry = fn.getBody().front();
      for (Value v : captured) {
        BlockArgument arg = entry.addArgument(v.getType(), v.getLoc());
        replaceAllUsesInRegionWith(v, arg, fn.getBody());
      }
      Operation *yield = entry.getTerminator();
      OpBuilder returnBuilder(yield);
      func::ReturnOp::create(returnBuilder, yield->getLoc());
      yield->erase();

      // Identical to an earlier kernel: call that one.
      SmallVector<func::FuncOp> &candidates = byType[type];
      func::FuncOp callee;
      for (func::FuncOp other : candidates)
        if (sameKernel(other, fn)) {
          callee = other;
          break;
        }
      if (callee) {
        fn.erase();
      } else {
        symbols.insert(fn); // unique name
        candidates.push_back(fn);
        callee = fn;
      }
      OpBuilder b(kernel);
      func::CallOp::create(b, loc, callee, captured.getArrayRef());
      kernel.erase();
    }
  }
};

} // namespace
