//===- DeviceBuffers.cpp - The un-gpu-device-buffers pass -------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// After bufferization and kernel outlining, host code allocates with
// memref.alloc and copies with memref.copy, which would hand host memory to
// kernels and dereference device memory on the host. In every function
// that launches kernels this pass:
//
// - turns each memref.alloc whose buffer (or a view of it) reaches a
//   gpu.launch_func or a gpu.launch body into gpu.alloc, and the
//   memref.dealloc ops of it (including those of buffers returned by
//   functions whose result is such an allocation) into gpu.dealloc;
//   a caller frees such a result after its last use unless it escapes;
// - turns every memref.copy into gpu.memcpy (the runtime's copy handles
//   host and device pointers alike, with unified addressing), also in
//   functions that only call kernel-launching ones and copy their device
//   results (a destination-passing wrapper).
//
// Host-only buffers (e.g. a host copy of a device scalar) stay memref.alloc;
// buffers whose pointers are passed to a callee marked `un.device_pointers`
// (the runtime's cuBLASLt matmul and NCCL all-reduce) are device buffers.
//
// It also frees buffers, because MLIR's ownership-based deallocation
// rejects kernels (gpu.barrier and gpu.launch_func have unknown memory
// effects): every memref.alloc without a dealloc whose buffer does not
// escape (returned, passed to a call, yielded, stored) is freed at the end
// of its block, after every use. Escaping buffers are the receiver's to
// free; in a stream-ordered (gpu-async-region) program the free waits for
// the kernels that use the buffer.
//
//===----------------------------------------------------------------------===//

#include "MatmulLibraryCalls.h"
#include "un/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNGPUDEVICEBUFFERS
#include "un/Codegen/GPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

/// `root` and every view of it (casts, reshapes, subviews, base buffers).
static llvm::SetVector<Value> aliasesOf(Value root) {
  llvm::SetVector<Value> aliases;
  SmallVector<Value> worklist = {root};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (!aliases.insert(v))
      continue;
    for (Operation *user : v.getUsers()) {
      if (auto view = dyn_cast<ViewLikeOpInterface>(user)) {
        if (view.getViewSource() == v)
          for (Value result : user->getResults())
            worklist.push_back(result);
        continue;
      }
      if (auto metadata = dyn_cast<memref::ExtractStridedMetadataOp>(user))
        worklist.push_back(metadata.getBaseBuffer());
      if (isa<memref::CastOp>(user))
        worklist.push_back(user->getResult(0));
    }
  }
  return aliases;
}

/// The functions of `module` marked un.device_pointers.
static llvm::StringSet<> deviceLibraryFunctions(ModuleOp module) {
  llvm::StringSet<> names;
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr(un::gpukernels::kDevicePointersAttr))
      names.insert(func.getSymName());
  return names;
}

/// True if `user` takes a buffer's pointer only for calls of `libraries`
/// (functions marked un.device_pointers: they use it on the device during
/// the call).
static bool isDevicePointerUse(Operation *user,
                               const llvm::StringSet<> &libraries) {
  auto pointer = dyn_cast<memref::ExtractAlignedPointerAsIndexOp>(user);
  return pointer && !pointer->use_empty() &&
         llvm::all_of(pointer->getUsers(), [&](Operation *use) {
           auto call = dyn_cast<func::CallOp>(use);
           return call && libraries.contains(call.getCallee());
         });
}

/// True if a kernel (or a call of `libraries`) reads or writes one of
/// `aliases`.
static bool reachesKernel(const llvm::SetVector<Value> &aliases,
                          const llvm::StringSet<> &libraries) {
  for (Value v : aliases)
    for (Operation *user : v.getUsers())
      if (isa<gpu::LaunchFuncOp>(user) ||
          user->getParentOfType<gpu::LaunchOp>() ||
          isDevicePointerUse(user, libraries))
        return true;
  return false;
}

static bool launchesKernels(func::FuncOp func,
                            const llvm::StringSet<> &libraries) {
  return func
      .walk([&](Operation *op) {
        auto call = dyn_cast<func::CallOp>(op);
        return isa<gpu::LaunchFuncOp, gpu::LaunchOp>(op) ||
                       (call && libraries.contains(call.getCallee()))
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

/// True if the buffer (one of `aliases`) may outlive its block, or is freed
/// already.
static bool escapesOrFreed(const llvm::SetVector<Value> &aliases,
                           const llvm::StringSet<> &libraries) {
  for (Value v : aliases)
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::DeallocOp, gpu::DeallocOp>(user))
        return true;
      if (isa<ViewLikeOpInterface, memref::LoadOp, memref::DimOp,
              memref::ExtractStridedMetadataOp, memref::CopyOp, memref::CastOp,
              gpu::LaunchFuncOp, gpu::MemcpyOp, gpu::MemsetOp>(user) ||
          isDevicePointerUse(user, libraries))
        continue;
      if (auto store = dyn_cast<memref::StoreOp>(user))
        if (store.getMemRef() == v)
          continue;
      if (user->getParentOfType<gpu::LaunchOp>() ||
          user->getDialect()->getNamespace() == "linalg")
        continue;
      return true;
    }
  return false;
}

namespace {
struct UNGPUDeviceBuffersPass
    : un::impl::UNGPUDeviceBuffersBase<UNGPUDeviceBuffersPass> {
  using UNGPUDeviceBuffersBase::UNGPUDeviceBuffersBase;

  /// Unified memory: every buffer is managed memory (host and device
  /// accessible), constants are copied into managed buffers, nothing is
  /// freed (for tests of whole programs whose host code reads results).
  void runUnified(ModuleOp module) {
    module.walk([](memref::DeallocOp dealloc) { dealloc->erase(); });
    module.walk([](memref::AllocOp alloc) {
      OpBuilder b(alloc);
      auto managed = gpu::AllocOp::create(
          b, alloc.getLoc(), alloc.getType(), Type(), ValueRange{},
          alloc.getDynamicSizes(), alloc.getSymbolOperands(),
          /*hostShared=*/true);
      alloc.replaceAllUsesWith(managed.getMemref());
      alloc->erase();
    });
    module.walk([](memref::GetGlobalOp global) {
      if (!global->getParentOfType<func::FuncOp>())
        return;
      OpBuilder b(global->getBlock(), std::next(global->getIterator()));
      auto type = cast<MemRefType>(global.getType());
      auto managed = gpu::AllocOp::create(
          b, global.getLoc(),
          MemRefType::get(type.getShape(), type.getElementType()), Type(),
          ValueRange{}, ValueRange{}, ValueRange{}, /*hostShared=*/true);
      auto copy = memref::CopyOp::create(b, global.getLoc(), global.getResult(),
                                         managed.getMemref());
      Value replacement = managed.getMemref();
      if (replacement.getType() != type)
        replacement =
            memref::CastOp::create(b, global.getLoc(), type, replacement);
      global.getResult().replaceAllUsesExcept(replacement, copy);
    });
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (unified)
      return runUnified(module);
    llvm::StringSet<> libraries = deviceLibraryFunctions(module);
    // Phase 0: free the buffers that do not escape.
    module.walk([&](memref::AllocOp alloc) {
      if (escapesOrFreed(aliasesOf(alloc.getResult()), libraries))
        return;
      OpBuilder b = OpBuilder::atBlockTerminator(alloc->getBlock());
      memref::DeallocOp::create(b, alloc.getLoc(), alloc.getResult());
    });
    // Phase 1: device allocations, and which function results are ones.
    DenseMap<func::FuncOp, SmallVector<Value>> deviceRoots;
    llvm::StringMap<llvm::SmallDenseSet<unsigned>> deviceResults;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !launchesKernels(func, libraries))
        continue;
      func.walk([&](memref::AllocOp alloc) {
        llvm::SetVector<Value> aliases = aliasesOf(alloc.getResult());
        if (!reachesKernel(aliases, libraries))
          return;
        deviceRoots[func].push_back(alloc.getResult());
        for (Value v : aliases)
          for (OpOperand &use : v.getUses())
            if (isa<func::ReturnOp>(use.getOwner()))
              deviceResults[func.getSymName()].insert(use.getOperandNumber());
      });
    }
    // Results of calls to those functions are device buffers too.
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      func.walk([&](func::CallOp call) {
        auto found = deviceResults.find(call.getCallee());
        if (found == deviceResults.end())
          return;
        for (unsigned index : found->second)
          deviceRoots[func].push_back(call.getResult(index));
      });
    }

    // Phase 2: rewrite.
    for (auto &[func, roots] : deviceRoots) {
      for (Value root : roots) {
        llvm::SetVector<Value> aliases = aliasesOf(root);
        for (Value v : aliases)
          for (Operation *user : llvm::make_early_inc_range(v.getUsers()))
            if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
              OpBuilder b(dealloc);
              gpu::DeallocOp::create(b, dealloc.getLoc(), Type(), ValueRange{},
                                     dealloc.getMemref());
              dealloc->erase();
            }
        if (auto alloc = root.getDefiningOp<memref::AllocOp>()) {
          OpBuilder b(alloc);
          auto gpuAlloc = gpu::AllocOp::create(
              b, alloc.getLoc(), alloc.getType(), Type(), ValueRange{},
              alloc.getDynamicSizes(), alloc.getSymbolOperands(),
              /*hostShared=*/false);
          alloc.replaceAllUsesWith(gpuAlloc.getMemref());
          alloc->erase();
        } else if (!escapesOrFreed(aliases, libraries)) {
          // A device buffer a call returned (the callee allocated it):
          // freed here after its last use, like a local one.
          OpBuilder b = OpBuilder::atBlockTerminator(root.getParentBlock());
          gpu::DeallocOp::create(b, root.getLoc(), Type(), ValueRange{}, root);
        }
      }
    }
    // Copies in functions that launch kernels or receive device buffers
    // from the functions they call (a destination-passing wrapper copying
    // the result into the caller's buffer).
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() ||
          (!launchesKernels(func, libraries) && !deviceRoots.count(func)))
        continue;
      func.walk([&](memref::CopyOp copy) {
        auto source = cast<MemRefType>(copy.getSource().getType());
        auto target = cast<MemRefType>(copy.getTarget().getType());
        if (!source.getLayout().isIdentity() ||
            !target.getLayout().isIdentity()) {
          copy.emitWarning("strided copy left on the host");
          return;
        }
        OpBuilder b(copy);
        gpu::MemcpyOp::create(b, copy.getLoc(), Type(), ValueRange{},
                              copy.getTarget(), copy.getSource());
        copy->erase();
      });
    }
  }
};
} // namespace
