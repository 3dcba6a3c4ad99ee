// RUN: un-opt %s -convert-un-to-linalg -canonicalize -cse -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @smooth_forward_stats(
// CHECK-SAME: %[[PSI:[^:]*]]: tensor<16xf32>, %[[RV:[^:]*]]: tensor<16xf32>, %[[W:[^:]*]]: tensor<?x16xf32>, %[[T:[^:]*]]: i64, %[[S:[^:]*]]: i64)
// CHECK-DAG: %[[Q:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[RMAX:.*]] = arith.constant 4.000000e+00 : f32
// CHECK-DAG: %[[RW:.*]] = arith.constant 20 : i64
// CHECK-DAG: %[[WARM:.*]] = arith.constant 10 : i64
// CHECK: %[[M:.*]] = tensor.dim %[[W]], %c0
// CHECK: %[[MI:.*]] = arith.index_castui %[[M]] : index to i64
// CHECK: %[[MF:.*]] = arith.uitofp %[[MI]] : i64 to f32
// A window of no rows stops with a message (no division by zero, no row
// written outside it); window slot t mod M in [0, M), negative t too;
// t <= M; t < W.
// CHECK: %[[HAS:.*]] = arith.cmpi sgt, %[[M]], %c0 : index
// CHECK: cf.assert %[[HAS]], "un: a statistics window has no rows
// CHECK: %[[R:.*]] = arith.remsi %[[T]], %[[MI]] : i64
// CHECK: %[[RM:.*]] = arith.addi %[[R]], %[[MI]] : i64
// CHECK: %[[SLOTI:.*]] = arith.remsi %[[RM]], %[[MI]] : i64
// CHECK: %[[SLOT:.*]] = arith.index_cast %[[SLOTI]] : i64 to index
// CHECK: %[[TLEM:.*]] = arith.cmpi sle, %[[T]], %[[MI]] : i64
// CHECK: %[[TLTW:.*]] = arith.cmpi slt, %[[T]], %[[WARM]] : i64
// Spread of sqrt(window) before the update, unbiased.
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%[[W]] : tensor<?x16xf32>)
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%[[W]] : tensor<?x16xf32>)
// CHECK: math.sqrt
// CHECK: arith.subf
// CHECK: %[[NM1:.*]] = arith.subf %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[S2:.*]] = arith.divf %{{.*}}, %[[NM1]] : f32
// psi enters the window; column sums and sums of logs.
// CHECK: %[[W1:.*]] = tensor.insert_slice %[[PSI]] into %[[W]][%[[SLOT]], 0] [1, 16] [1, 1]
// CHECK: %[[SUMS:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[W1]] : tensor<?x16xf32>)
// CHECK: math.log
// Outlier test: any channel with am - gm > s2 * M, and only from t >= W.
// CHECK: %[[THR:.*]] = arith.mulf %[[S2]], %[[MF]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[SUMS]]#0, %[[SUMS]]#1 : tensor<16xf32>, tensor<16xf32>) outs(%{{.*}} : tensor<i1>)
// CHECK: math.exp
// CHECK: arith.cmpf ogt, %{{.*}}, %[[THR]] : f32
// CHECK: arith.ori
// CHECK: %[[ANY:.*]] = tensor.extract
// CHECK: %[[PAST:.*]] = arith.cmpi sge, %[[T]], %[[WARM]] : i64
// CHECK: %[[OUT:.*]] = arith.andi %[[ANY]], %[[PAST]] : i1
// CHECK: %[[ONE:.*]] = arith.cmpi ule, %[[MI]], %c1_i64 : i64
// CHECK: %[[SKIP:.*]] = arith.ori %[[ONE]], %[[OUT]] : i1
// CHECK: %[[INC:.*]] = arith.extui %[[OUT]] : i1 to i64
// CHECK: %[[SKIPS:.*]] = arith.addi %[[S]], %[[INC]] : i64
// An outlier's row is running_var.
// CHECK: %[[ROW:.*]] = arith.select %[[OUT]], %[[RV]], %[[PSI]] : tensor<16xf32>
// CHECK: %[[WNEW:.*]] = tensor.insert_slice %[[ROW]] into %[[W]][%[[SLOT]], 0] [1, 16] [1, 1]
// var = psi when t <= M or t < W or skip; r pinned when t <= max(r_warmup, W) or skip.
// CHECK: %[[A:.*]] = arith.ori %[[TLEM]], %[[TLTW]] : i1
// CHECK: %[[USEPSI:.*]] = arith.ori %[[A]], %[[SKIP]] : i1
// CHECK: %[[RW1:.*]] = arith.cmpi sle, %[[T]], %[[RW]] : i64
// CHECK: %[[PIN:.*]] = arith.ori %[[RW1]], %[[SKIP]] : i1
// CHECK: %[[RES:.*]]:3 = linalg.generic {{.*}} ins(%[[PSI]], %[[RV]], %[[SUMS]]#1 : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK: ^bb0(%[[PSIC:[^:]*]]: f32, %[[RVC:[^:]*]]: f32, %[[LOGS:[^:]*]]: f32,
// CHECK: %[[MEANLOG:.*]] = arith.divf %[[LOGS]], %[[MF]] : f32
// CHECK: %[[GM:.*]] = math.exp %[[MEANLOG]] : f32
// CHECK: %[[VAR:.*]] = arith.select %[[USEPSI]], %[[PSIC]], %[[GM]] : f32
// CHECK: %[[RATIO:.*]] = arith.divf
// CHECK: %[[LO:.*]] = arith.maximumf %[[RATIO]], %[[Q]] : f32
// CHECK: %[[HI:.*]] = arith.minimumf %[[LO]], %[[RMAX]] : f32
// CHECK: %[[R:.*]] = arith.select %[[PIN]], %{{.*}}, %[[HI]] : f32
// CHECK: linalg.yield %[[VAR]], %[[R]], %{{.*}} : f32, f32, f32
// CHECK: return %[[RES]]#0, %[[RES]]#1, %[[SKIP]], %[[RES]]#2, %[[WNEW]], %[[SKIPS]]
func.func @smooth_forward_stats(%psi: tensor<16xf32>, %rv: tensor<16xf32>, %w: tensor<?x16xf32>, %t: i64, %s: i64) -> (tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<?x16xf32>, i64) {
  %0:6 = un.smooth_forward_stats %psi, %rv, %w, %t, %s {outlier_filtration = true, warmup_iters = 10 : i64, r_warmup = 20 : i64, r_max = 4.0 : f32, momentum = 0.75 : f32} : (tensor<16xf32>, tensor<16xf32>, tensor<?x16xf32>, i64, i64) -> (tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<?x16xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5 : tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<?x16xf32>, i64
}

// -----

// Without outlier filtration there is no outlier test; skip is Mf <= 1
// (false for a static window of 4) and skips is unchanged.
// CHECK-LABEL: func.func @smooth_forward_stats_no_filtration(
// CHECK-SAME: %{{[^:]*}}: tensor<8xf32>, %{{[^:]*}}: tensor<8xf32>, %{{[^:]*}}: tensor<4x8xf32>, %{{[^:]*}}: i64, %[[S:[^:]*]]: i64)
// CHECK-NOT: arith.cmpf
// CHECK: return %{{.*}}#0, %{{.*}}#1, %false, %{{.*}}#2, %{{.*}}, %[[S]]
func.func @smooth_forward_stats_no_filtration(%psi: tensor<8xf32>, %rv: tensor<8xf32>, %w: tensor<4x8xf32>, %t: i64, %s: i64) -> (tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<4x8xf32>, i64) {
  %0:6 = un.smooth_forward_stats %psi, %rv, %w, %t, %s : (tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32>, i64, i64) -> (tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<4x8xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5 : tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<4x8xf32>, i64
}

// -----

// A window of one row always skips.
// CHECK-LABEL: func.func @smooth_forward_stats_window_one(
// CHECK: return %{{.*}}#0, %{{.*}}#1, %true,
func.func @smooth_forward_stats_window_one(%psi: tensor<8xf32>, %rv: tensor<8xf32>, %w: tensor<1x8xf32>, %t: i64, %s: i64) -> (tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<1x8xf32>, i64) {
  %0:6 = un.smooth_forward_stats %psi, %rv, %w, %t, %s : (tensor<8xf32>, tensor<8xf32>, tensor<1x8xf32>, i64, i64) -> (tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<1x8xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5 : tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<1x8xf32>, i64
}

// -----

// CHECK-LABEL: func.func @smooth_grad_stats(
// CHECK-SAME: %[[GZ:[^:]*]]: tensor<8xf32>, %[[SKIP:[^:]*]]: i1, %[[EMA:[^:]*]]: tensor<8xf32>, %[[W:[^:]*]]: tensor<3x8xf32>, %[[T:[^:]*]]: i64)
// A static window has rows: no check is left.
// CHECK-NOT: cf.assert
// CHECK: %[[R:.*]] = arith.remsi %[[T]], %c3_i64 : i64
// CHECK: %[[RM:.*]] = arith.addi %[[R]], %c3_i64 : i64
// CHECK: %[[SLOTI:.*]] = arith.remsi %[[RM]], %c3_i64 : i64
// CHECK: %[[SLOT:.*]] = arith.index_cast %[[SLOTI]]
// CHECK: %[[ROW:.*]] = arith.select %[[SKIP]], %[[EMA]], %[[GZ]] : tensor<8xf32>
// CHECK: %[[WNEW:.*]] = tensor.insert_slice %[[ROW]] into %[[W]][%[[SLOT]], 0] [1, 8] [1, 1]
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[WNEW]] : tensor<3x8xf32>)
// CHECK: %[[USEGZ:.*]] = arith.ori %{{.*}}, %[[SKIP]] : i1
// CHECK: %[[RES:.*]]:2 = linalg.generic {{.*}} ins(%[[GZ]], %[[EMA]], %[[SUM]] :
// CHECK: ^bb0(%[[GZC:[^:]*]]: f32, %[[EMAC:[^:]*]]: f32, %[[SUMC:[^:]*]]: f32,
// CHECK: %[[MEAN:.*]] = arith.divf %[[SUMC]], %cst{{.*}} : f32
// CHECK: %[[MU:.*]] = arith.select %[[USEGZ]], %[[GZC]], %[[MEAN]] : f32
// CHECK: %[[EMANEW:.*]] = arith.addf
// CHECK: %[[COEF:.*]] = arith.select %[[SKIP]], %[[MU]], %[[EMANEW]] : f32
// CHECK: linalg.yield %[[COEF]], %[[EMANEW]]
// CHECK: return %[[RES]]#0, %[[RES]]#1, %[[WNEW]]
func.func @smooth_grad_stats(%gz: tensor<8xf32>, %skip: i1, %ema: tensor<8xf32>, %w: tensor<3x8xf32>, %t: i64) -> (tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>) {
  %0:3 = un.smooth_grad_stats %gz, %skip, %ema, %w, %t : (tensor<8xf32>, i1, tensor<8xf32>, tensor<3x8xf32>, i64) -> (tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>)
  return %0#0, %0#1, %0#2 : tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>
}
