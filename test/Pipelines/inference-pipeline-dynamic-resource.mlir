// A dense_resource constant whose type claims a dynamic size has no
// element count: the fold into linear layers leaves its statistics to run
// time instead of reading it (the fuzzer found the crash).
// RUN: un-opt %s --un-inference-pipeline | FileCheck %s

// CHECK-LABEL: func.func @infer_resource_dynamic_type(
// CHECK-NOT: un.infer
// CHECK: return
func.func @infer_resource_dynamic_type(%x: tensor<?x2xf32>, %beta: tensor<?xf32>) -> tensor<?x2xf32> {
  %gamma = arith.constant dense_resource<un_gamma_dyn> : tensor<?xf32>
  %rv = arith.constant dense_resource<un_rv_dyn> : tensor<?xf32>
  %y = un.infer %x, %gamma, %beta, %rv {eps = 1.0 : f32} : (tensor<?x2xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      un_gamma_dyn: "0x04000000000000400000C040",
      un_rv_dyn: "0x040000000000404000000041"
    }
  }
#-}
