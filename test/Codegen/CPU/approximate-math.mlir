// un-cpu-approximate-math: transcendental functions become arithmetic
// (upstream polynomial approximations), on scalars and vectors; x^n with a
// constant n becomes multiplications; sqrt stays (an instruction).
// RUN: un-opt %s --un-cpu-approximate-math | FileCheck %s

// CHECK-LABEL: func.func @approximated(
// CHECK-NOT: math.tanh
// CHECK-NOT: math.exp
// CHECK-NOT: math.erf
// CHECK-NOT: math.log
// CHECK-NOT: math.fpowi
// CHECK: math.sqrt
// CHECK: return
func.func @approximated(%v: vector<8xf32>, %s: f32, %h: f16) -> (vector<8xf32>, f32, f32, f32, f16, vector<8xf32>, f32) {
  %t = math.tanh %v : vector<8xf32>
  %e = math.exp %s : f32
  %r = math.erf %s : f32
  %l = math.log %s : f32
  %eh = math.exp %h : f16
  %c3 = arith.constant dense<3> : vector<8xi32>
  %p = math.fpowi %v, %c3 : vector<8xf32>, vector<8xi32>
  %q = math.sqrt %s : f32
  return %t, %e, %r, %l, %eh, %p, %q : vector<8xf32>, f32, f32, f32, f16, vector<8xf32>, f32
}
