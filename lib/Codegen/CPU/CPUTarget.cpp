//===- CPUTarget.cpp - What the CPU code generator reads of a target -----===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/CPUTarget.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <memory>

using namespace mlir;

/// The features LLVM detects on this machine, as a `+a,-b` string: a CPU
/// name alone over-reports on virtual machines that mask features.
static std::string hostFeatures() {
  std::string result;
  for (const auto &feature : llvm::sys::getHostCPUFeatures()) {
    if (!result.empty())
      result += ",";
    result += (feature.second ? "+" : "-") + feature.first().str();
  }
  return result;
}

FailureOr<un::CPUTarget> un::lookupCPUTarget(llvm::StringRef cpu,
                                             llvm::StringRef features,
                                             std::string &error) {
  static const bool initialized = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargetMCs();
    return true;
  }();
  (void)initialized;

  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string allFeatures;
  if (cpu.empty() || cpu == "host") {
    cpu = llvm::sys::getHostCPUName();
    allFeatures = hostFeatures();
  }
  if (!features.empty())
    allFeatures += (allFeatures.empty() ? "" : ",") + features.str();

  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return failure();
  // Check the names on a generic subtarget first: LLVM only warns (on
  // stderr) about unknown ones and carries on.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      llvmTarget->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpu)) {
    error = "unknown CPU '" + cpu.str() + "' for " + triple.str();
    return failure();
  }
  llvm::SmallVector<llvm::StringRef> names;
  features.split(names, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef name : names) {
    llvm::StringRef bare = name.drop_front();
    bool known = llvm::any_of(
        generic->getAllProcessorFeatures(),
        [&](const llvm::SubtargetFeatureKV &kv) { return bare == kv.Key; });
    if (!(name.starts_with("+") || name.starts_with("-")) || !known) {
      error = "unknown CPU feature '" + name.str() +
              "' (write +name or -name, as llc -mattr does)";
      return failure();
    }
  }
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      llvmTarget->createMCSubtargetInfo(triple, cpu, allFeatures));

  CPUTarget target;
  target.cpu = cpu.str();
  auto has = [&](llvm::StringRef f) {
    return sti->checkFeatures("+" + f.str());
  };
  if (triple.isX86()) {
    if (has("avx512f")) {
      target.vectorBits = 512;
      target.vectorRegisters = 32;
    } else if (has("avx")) {
      target.vectorBits = 256;
      target.vectorRegisters = 16;
    } else {
      target.vectorBits = 128;
      target.vectorRegisters = 16;
    }
    target.hasFMA = has("fma") || has("avx512f");
  } else if (triple.isAArch64()) {
    target.vectorBits = 128;
    target.vectorRegisters = 32;
    target.hasFMA = true;
  }
  return target;
}

un::MatmulTiling un::chooseMatmulTiling(const CPUTarget &target) {
  MatmulTiling tiling;
  tiling.lanes = target.f32Lanes();
  const int64_t vectorsAcross = 2;
  tiling.tileN = vectorsAcross * tiling.lanes;
  // Accumulators (tileM x vectorsAcross), the B vectors and one broadcast.
  int64_t rows =
      (static_cast<int64_t>(target.vectorRegisters) - vectorsAcross - 1) /
      vectorsAcross;
  tiling.tileM = std::clamp<int64_t>(rows, 1, 12);
  tiling.tileK = 65536 / (4 * tiling.tileN);
  tiling.unrollK = 4;
  tiling.fma = target.hasFMA;
  return tiling;
}
