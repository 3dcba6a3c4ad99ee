// un_forward and un_backward for x [2, 3, 8] f32, as python/un_mlir/train_step.py
// writes them (destination passing: every result materialized into a
// restrict writable argument; t, skips and skip in memref<2xi64>).
func.func @un_forward(%x_m: memref<2x3x8xf32>, %gamma_m: memref<8xf32>, %beta_m: memref<8xf32>, %rv_m: memref<8xf32>, %win_m: memref<4x8xf32>, %scalars: memref<2xi64>, %y_o: memref<2x3x8xf32>, %z_o: memref<2x3x8xf32>, %var_o: memref<8xf32>, %r_o: memref<8xf32>, %rv_o: memref<8xf32>, %win_o: memref<4x8xf32>, %scalars_o: memref<2xi64>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %x_m restrict : memref<2x3x8xf32> to tensor<2x3x8xf32>
  %gamma = bufferization.to_tensor %gamma_m restrict : memref<8xf32> to tensor<8xf32>
  %beta = bufferization.to_tensor %beta_m restrict : memref<8xf32> to tensor<8xf32>
  %rv = bufferization.to_tensor %rv_m restrict : memref<8xf32> to tensor<8xf32>
  %win = bufferization.to_tensor %win_m restrict : memref<4x8xf32> to tensor<4x8xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %t = memref.load %scalars[%c0] : memref<2xi64>
  %skips = memref.load %scalars[%c1] : memref<2xi64>
  %y, %z, %var, %r, %skip, %rv1, %win1, %skips1 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips) {eps = 1.000000e-05 : f32, momentum = 9.000000e-01 : f32, warmup_iters = 4000 : i64, outlier_filtration = false, r_max = 5.000000e+00 : f32, r_warmup = 1000 : i64} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32>, i64, i64) -> (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<4x8xf32>, i64)
  bufferization.materialize_in_destination %y in restrict writable %y_o : (tensor<2x3x8xf32>, memref<2x3x8xf32>) -> ()
  bufferization.materialize_in_destination %z in restrict writable %z_o : (tensor<2x3x8xf32>, memref<2x3x8xf32>) -> ()
  bufferization.materialize_in_destination %var in restrict writable %var_o : (tensor<8xf32>, memref<8xf32>) -> ()
  bufferization.materialize_in_destination %r in restrict writable %r_o : (tensor<8xf32>, memref<8xf32>) -> ()
  bufferization.materialize_in_destination %rv1 in restrict writable %rv_o : (tensor<8xf32>, memref<8xf32>) -> ()
  bufferization.materialize_in_destination %win1 in restrict writable %win_o : (tensor<4x8xf32>, memref<4x8xf32>) -> ()
  %skip64 = arith.extui %skip : i1 to i64
  memref.store %skip64, %scalars_o[%c0] : memref<2xi64>
  memref.store %skips1, %scalars_o[%c1] : memref<2xi64>
  return
}

func.func @un_backward(%gy_m: memref<2x3x8xf32>, %z_m: memref<2x3x8xf32>, %var_m: memref<8xf32>, %r_m: memref<8xf32>, %gamma_m: memref<8xf32>, %ema_m: memref<8xf32>, %wgz_m: memref<4x8xf32>, %scalars: memref<2xi64>, %gx_o: memref<2x3x8xf32>, %ggamma_o: memref<8xf32>, %gbeta_o: memref<8xf32>, %ema_o: memref<8xf32>, %wgz_o: memref<4x8xf32>) attributes {llvm.emit_c_interface} {
  %gy = bufferization.to_tensor %gy_m restrict : memref<2x3x8xf32> to tensor<2x3x8xf32>
  %z = bufferization.to_tensor %z_m restrict : memref<2x3x8xf32> to tensor<2x3x8xf32>
  %var = bufferization.to_tensor %var_m restrict : memref<8xf32> to tensor<8xf32>
  %r = bufferization.to_tensor %r_m restrict : memref<8xf32> to tensor<8xf32>
  %gamma = bufferization.to_tensor %gamma_m restrict : memref<8xf32> to tensor<8xf32>
  %ema = bufferization.to_tensor %ema_m restrict : memref<8xf32> to tensor<8xf32>
  %wgz = bufferization.to_tensor %wgz_m restrict : memref<4x8xf32> to tensor<4x8xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %t = memref.load %scalars[%c0] : memref<2xi64>
  %skip64 = memref.load %scalars[%c1] : memref<2xi64>
  %skip = arith.trunci %skip64 : i64 to i1
  %gx, %ggamma, %gbeta, %ema1, %wgz1 = "un.train_backward"(%gy, %z, %var, %r, %skip, %gamma, %ema, %wgz, %t) {eps = 1.000000e-05 : f32, momentum = 9.000000e-01 : f32, warmup_iters = 4000 : i64} : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32>, i64) -> (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32>)
  bufferization.materialize_in_destination %gx in restrict writable %gx_o : (tensor<2x3x8xf32>, memref<2x3x8xf32>) -> ()
  bufferization.materialize_in_destination %ggamma in restrict writable %ggamma_o : (tensor<8xf32>, memref<8xf32>) -> ()
  bufferization.materialize_in_destination %gbeta in restrict writable %gbeta_o : (tensor<8xf32>, memref<8xf32>) -> ()
  bufferization.materialize_in_destination %ema1 in restrict writable %ema_o : (tensor<8xf32>, memref<8xf32>) -> ()
  bufferization.materialize_in_destination %wgz1 in restrict writable %wgz_o : (tensor<4x8xf32>, memref<4x8xf32>) -> ()
  return
}

