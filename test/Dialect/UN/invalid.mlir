// Every diagnostic of the un ops, one case each.
// RUN: un-opt %s -split-input-file -verify-diagnostics

func.func @x_int(%x: tensor<2x3x4xi32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{operand #0 must be ranked tensor [..., C] of rank >= 1 of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x3x4xi32>'}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xi32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xi32>, tensor<2x3x4xi32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @rv_f16(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf16>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{operand #3 must be 1D tensor of 32-bit float values, but got 'tensor<4xf16>'}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf16>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @eps_f64(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{attribute 'eps' failed to satisfy constraint: 32-bit float attribute}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) {eps = 1.0e-5 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @skip_i32(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{result #4 must be 1-bit signless integer}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i32, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @x_rank0(%x: tensor<f32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{operand #0 must be ranked tensor [..., C] of rank >= 1 of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<f32>'}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<f32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<f32>, tensor<f32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @gamma_channels(%x: tensor<2x3x4xf32>, %g: tensor<5xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{channel dim of 'gamma' (5) does not match channel dim of 'x' (4)}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<5xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @beta_channels(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<3xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{channel dim of 'beta' (3) does not match channel dim of 'x' (4)}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<3xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @rv_channels(%x: tensor<2x?xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<6xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{channel dim of 'running_var' (6) does not match channel dim of 'gamma' (4)}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x?xf32>, tensor<4xf32>, tensor<4xf32>, tensor<6xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x?xf32>, tensor<2x?xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<6xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @win_channels(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x8xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{channel dim of 'win_x2' (8) does not match channel dim of 'x' (4)}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x8xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x8xf32>, i64)
  return
}

// -----

func.func @gamma_rank(%x: tensor<2x3x4xf32>, %g: tensor<1x4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{operand #1 must be 1D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1x4xf32>'}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @gamma_type(%x: tensor<2x3x4xf16>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{failed to verify that all of {x, gamma, beta} have same element type}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf16>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf16>, tensor<2x3x4xf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @win_rank(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{operand #4 must be 2D tensor of 32-bit float values, but got 'tensor<4xf32>'}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4xf32>, i64)
  return
}

// -----

func.func @win_empty(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<0x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'win_x2' must have a window of at least 1 row, got 0}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<0x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<0x4xf32>, i64)
  return
}

// -----

func.func @mask_rank(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64, %m: tensor<6xi1>) {
  // expected-error @+1 {{'mask' must have the shape of 'x' without its channel dim: expected rank 2, got 1}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s, %m)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64, tensor<6xi1>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @mask_dim(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64, %m: tensor<2x5xi1>) {
  // expected-error @+1 {{'mask' dim 1 (5) does not match 'x' dim 1 (3)}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s, %m)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64, tensor<2x5xi1>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @mask_type(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64, %m: tensor<2x3xi8>) {
  // expected-error @+1 {{operand #7 must be ranked tensor of 1-bit signless integer values}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s, %m)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64, tensor<2x3xi8>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @y_type(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{failed to verify that all of {x, y, z} have same type}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf16>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @z_shape(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{failed to verify that all of {x, y, z} have same type}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<6x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @var_channels(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{channel dim of 'var' (8) does not match channel dim of 'x' (4)}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<8xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @r_rank(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{result #3 must be 1D tensor of 32-bit float values, but got 'tensor<4x1xf32>'}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4x1xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @rv_new_type(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{failed to verify that all of {running_var, running_var_new} have same type}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<?xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @win_new_type(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{failed to verify that all of {win_x2, win_x2_new} have same type}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s)  : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<2x4xf32>, i64)
  return
}

// -----

func.func @eps_zero(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'eps' must be > 0, got 0}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) {eps = 0.0 : f32} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @eps_negative(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'eps' must be > 0, got -}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) {eps = -1.0e-5 : f32} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @momentum_one(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'momentum' must be in [0, 1), got 1}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) {momentum = 1.0 : f32} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @momentum_negative(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'momentum' must be in [0, 1), got -5.000000e-01}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) {momentum = -0.5 : f32} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @r_max_small(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'r_max' must be >= 1, got 5.000000e-01}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) {r_max = 0.5 : f32} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @warmup_negative(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'warmup_iters' must be >= 0, got -1}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) {warmup_iters = -1 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @r_warmup_negative(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'r_warmup' must be >= 0, got -3}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) {r_warmup = -3 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @bwd_z_type(%gy: tensor<?x4xbf16>, %z: tensor<?x4xf32>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{failed to verify that all of {gy, z, gx} have same type}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_var_channels(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<3xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{channel dim of 'var' (3) does not match channel dim of 'gy' (4)}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<3xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_gamma_type(%gy: tensor<?x4xf16>, %z: tensor<?x4xf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{failed to verify that all of {gy, gamma, ggamma, gbeta} have same element type}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xf16>, tensor<?x4xf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_win(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4x1xf32>, %t: i64) {
  // expected-error @+1 {{operand #7 must be 2D tensor of 32-bit float values, but got 'tensor<2x4x1xf32>'}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4x1xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4x1xf32>)
  return
}

// -----

func.func @bwd_ema_channels(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<5xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{channel dim of 'ema_gz' (5) does not match channel dim of 'gy' (4)}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<5xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<5xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_gx_type(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{failed to verify that all of {gy, z, gx} have same type}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<4x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_ggamma_type(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{failed to verify that all of {gy, gamma, ggamma, gbeta} have same element type}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xf32>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_gbeta_channels(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{channel dim of 'gbeta' (2) does not match channel dim of 'gy' (4)}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<2xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_ema_new(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{failed to verify that all of {ema_gz, ema_gz_new} have same type}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<?xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_win_new(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{failed to verify that all of {win_gz, win_gz_new} have same type}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t)  : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<3x4xf32>)
  return
}

// -----

func.func @bwd_momentum(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{'momentum' must be in [0, 1), got 2}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t) {momentum = 2.0 : f32} : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_eps(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{'eps' must be > 0, got -1}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t) {eps = -1.0 : f32} : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @bwd_warmup(%gy: tensor<?x4xbf16>, %z: tensor<?x4xbf16>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %g: tensor<4xbf16>, %ema: tensor<4xf32>, %w: tensor<2x4xf32>, %t: i64) {
  // expected-error @+1 {{'warmup_iters' must be >= 0, got -7}}
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t) {warmup_iters = -7 : i64} : (tensor<?x4xbf16>, tensor<?x4xbf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>, i64) -> (tensor<?x4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @infer_channels(%x: tensor<?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %rv: tensor<384xf32>) {
  // expected-error @+1 {{channel dim of 'running_var' (384) does not match channel dim of 'x' (768)}}
  %0 = "un.infer"(%x, %g, %b, %rv) : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<384xf32>) -> tensor<?x768xf32>
  return
}

// -----

func.func @infer_result(%x: tensor<?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %rv: tensor<768xf32>) {
  // expected-error @+1 {{failed to verify that all of {x, y} have same type}}
  %0 = "un.infer"(%x, %g, %b, %rv) : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<4x768xf32>
  return
}

// -----

func.func @infer_eps(%x: tensor<?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %rv: tensor<768xf32>) {
  // expected-error @+1 {{'eps' must be > 0, got 0}}
  %0 = "un.infer"(%x, %g, %b, %rv) {eps = 0.0 : f32} : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x768xf32>
  return
}

// -----

func.func @infer_beta_type(%x: tensor<?x768xbf16>, %g: tensor<768xbf16>, %b: tensor<768xf16>, %rv: tensor<768xf32>) {
  // expected-error @+1 {{failed to verify that all of {x, gamma, beta} have same element type}}
  %0 = "un.infer"(%x, %g, %b, %rv) : (tensor<?x768xbf16>, tensor<768xbf16>, tensor<768xf16>, tensor<768xf32>) -> tensor<?x768xbf16>
  return
}

// -----

func.func @infer_missing_operand(%x: tensor<?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{expected 4 operands, but found 3}}
  %0 = "un.infer"(%x, %g, %b) : (tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x768xf32>
  return
}

// -----

func.func @forward_missing_operand(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64) {
  // expected-error @+1 {{expected 7 or more operands, but found 6}}
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t) : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}

// -----

func.func @forward_missing_result(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{expected 8 results}}
  %0:7 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>)
  return
}

// -----

func.func @qm_mask(%x: tensor<4x8x16xf32>, %m: tensor<4x9xi1>) {
  // expected-error @+1 {{'mask' dim 1 (9) does not match 'x' dim 1 (8)}}
  %0 = un.quadratic_mean %x mask %m : (tensor<4x8x16xf32>, tensor<4x9xi1>) -> tensor<16xf32>
  return
}

// -----

func.func @qm_result(%x: tensor<4x8x16xf32>) {
  // expected-error @+1 {{channel dim of 'psi' (8) does not match channel dim of 'x' (16)}}
  %0 = un.quadratic_mean %x : (tensor<4x8x16xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @qm_result_type(%x: tensor<4x8x16xf16>) {
  // expected-error @+1 {{result #0 must be 1D tensor of 32-bit float values, but got 'tensor<16xf16>'}}
  %0 = un.quadratic_mean %x : (tensor<4x8x16xf16>) -> tensor<16xf16>
  return
}

// -----

func.func @qm_x_rank(%x: tensor<f32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor [..., C] of rank >= 1 of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<f32>'}}
  %0 = un.quadratic_mean %x : (tensor<f32>) -> tensor<1xf32>
  return
}

// -----

func.func @sfs_window(%psi: tensor<16xf32>, %rv: tensor<16xf32>, %w: tensor<4x17xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{channel dim of 'win_x2' (17) does not match channel dim of 'psi' (16)}}
  %0:6 = un.smooth_forward_stats %psi, %rv, %w, %t, %s : (tensor<16xf32>, tensor<16xf32>, tensor<4x17xf32>, i64, i64) -> (tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<4x17xf32>, i64)
  return
}

// -----

func.func @sfs_r_max(%psi: tensor<16xf32>, %rv: tensor<16xf32>, %w: tensor<4x16xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{'r_max' must be >= 1, got 0}}
  %0:6 = un.smooth_forward_stats %psi, %rv, %w, %t, %s {r_max = 0.0 : f32} : (tensor<16xf32>, tensor<16xf32>, tensor<4x16xf32>, i64, i64) -> (tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<4x16xf32>, i64)
  return
}

// -----

func.func @sfs_var(%psi: tensor<16xf32>, %rv: tensor<16xf32>, %w: tensor<4x16xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{result #0 must be 1D tensor of 32-bit float values, but got 'tensor<1x16xf32>'}}
  %0:6 = un.smooth_forward_stats %psi, %rv, %w, %t, %s : (tensor<16xf32>, tensor<16xf32>, tensor<4x16xf32>, i64, i64) -> (tensor<1x16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<4x16xf32>, i64)
  return
}

// -----

func.func @sfs_win_new(%psi: tensor<16xf32>, %rv: tensor<16xf32>, %w: tensor<4x16xf32>, %t: i64, %s: i64) {
  // expected-error @+1 {{failed to verify that all of {win_x2, win_x2_new} have same type}}
  %0:6 = un.smooth_forward_stats %psi, %rv, %w, %t, %s : (tensor<16xf32>, tensor<16xf32>, tensor<4x16xf32>, i64, i64) -> (tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<?x16xf32>, i64)
  return
}

// -----

func.func @sfs_skips_type(%psi: tensor<16xf32>, %rv: tensor<16xf32>, %w: tensor<4x16xf32>, %t: i64, %s: i32) {
  // expected-error @+1 {{operand #4 must be 64-bit signless integer, but got 'i32'}}
  %0:6 = un.smooth_forward_stats %psi, %rv, %w, %t, %s : (tensor<16xf32>, tensor<16xf32>, tensor<4x16xf32>, i64, i32) -> (tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<4x16xf32>, i64)
  return
}

// -----

func.func @normalize_var(%x: tensor<?x16xf32>, %v: tensor<15xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{channel dim of 'var' (15) does not match channel dim of 'x' (16)}}
  %0:2 = un.normalize %x, %v, %g, %b : (tensor<?x16xf32>, tensor<15xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>)
  return
}

// -----

func.func @normalize_y(%x: tensor<?x16xf32>, %v: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{failed to verify that all of {x, z, y} have same type}}
  %0:2 = un.normalize %x, %v, %g, %b : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf16>)
  return
}

// -----

func.func @normalize_eps(%x: tensor<?x16xf32>, %v: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'eps' must be > 0, got -5.000000e-01}}
  %0:2 = un.normalize %x, %v, %g, %b {eps = -0.5 : f32} : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>)
  return
}

// -----

func.func @grad_stats_z(%gy: tensor<8x16xf16>, %z: tensor<8x16xf32>, %r: tensor<16xf32>, %g: tensor<16xf16>) {
  // expected-error @+1 {{failed to verify that all of {gy, z} have same type}}
  %0:3 = un.grad_stats %gy, %z, %r, %g : (tensor<8x16xf16>, tensor<8x16xf32>, tensor<16xf32>, tensor<16xf16>) -> (tensor<16xf32>, tensor<16xf16>, tensor<16xf16>)
  return
}

// -----

func.func @grad_stats_ggamma(%gy: tensor<8x16xf16>, %z: tensor<8x16xf16>, %r: tensor<16xf32>, %g: tensor<16xf16>) {
  // expected-error @+1 {{failed to verify that all of {gy, gamma, ggamma, gbeta} have same element type}}
  %0:3 = un.grad_stats %gy, %z, %r, %g : (tensor<8x16xf16>, tensor<8x16xf16>, tensor<16xf32>, tensor<16xf16>) -> (tensor<16xf32>, tensor<16xf32>, tensor<16xf16>)
  return
}

// -----

func.func @grad_stats_gz(%gy: tensor<8x16xf16>, %z: tensor<8x16xf16>, %r: tensor<16xf32>, %g: tensor<16xf16>) {
  // expected-error @+1 {{channel dim of 'gz' (8) does not match channel dim of 'gy' (16)}}
  %0:3 = un.grad_stats %gy, %z, %r, %g : (tensor<8x16xf16>, tensor<8x16xf16>, tensor<16xf32>, tensor<16xf16>) -> (tensor<8xf32>, tensor<16xf16>, tensor<16xf16>)
  return
}

// -----

func.func @sgs_window(%gz: tensor<16xf32>, %skip: i1, %ema: tensor<16xf32>, %w: tensor<0x16xf32>, %t: i64) {
  // expected-error @+1 {{'win_gz' must have a window of at least 1 row, got 0}}
  %0:3 = un.smooth_grad_stats %gz, %skip, %ema, %w, %t : (tensor<16xf32>, i1, tensor<16xf32>, tensor<0x16xf32>, i64) -> (tensor<16xf32>, tensor<16xf32>, tensor<0x16xf32>)
  return
}

// -----

func.func @sgs_coef(%gz: tensor<16xf32>, %skip: i1, %ema: tensor<16xf32>, %w: tensor<2x16xf32>, %t: i64) {
  // expected-error @+1 {{channel dim of 'coef' (32) does not match channel dim of 'gz' (16)}}
  %0:3 = un.smooth_grad_stats %gz, %skip, %ema, %w, %t : (tensor<16xf32>, i1, tensor<16xf32>, tensor<2x16xf32>, i64) -> (tensor<32xf32>, tensor<16xf32>, tensor<2x16xf32>)
  return
}

// -----

func.func @sgs_momentum(%gz: tensor<16xf32>, %skip: i1, %ema: tensor<16xf32>, %w: tensor<2x16xf32>, %t: i64) {
  // expected-error @+1 {{'momentum' must be in [0, 1), got 1.500000e+00}}
  %0:3 = un.smooth_grad_stats %gz, %skip, %ema, %w, %t {momentum = 1.5 : f32} : (tensor<16xf32>, i1, tensor<16xf32>, tensor<2x16xf32>, i64) -> (tensor<16xf32>, tensor<16xf32>, tensor<2x16xf32>)
  return
}

// -----

func.func @sgs_ema_new(%gz: tensor<16xf32>, %skip: i1, %ema: tensor<16xf32>, %w: tensor<2x16xf32>, %t: i64) {
  // expected-error @+1 {{failed to verify that all of {ema_gz, ema_gz_new} have same type}}
  %0:3 = un.smooth_grad_stats %gz, %skip, %ema, %w, %t : (tensor<16xf32>, i1, tensor<16xf32>, tensor<2x16xf32>, i64) -> (tensor<16xf32>, tensor<?xf32>, tensor<2x16xf32>)
  return
}

// -----

func.func @input_grad_coef(%gy: tensor<8x16xf32>, %z: tensor<8x16xf32>, %v: tensor<16xf32>, %r: tensor<16xf32>, %g: tensor<16xf32>, %c: tensor<4xf32>) {
  // expected-error @+1 {{channel dim of 'coef' (4) does not match channel dim of 'gy' (16)}}
  %0 = un.input_grad %gy, %z, %v, %r, %g, %c : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<4xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @input_grad_gx(%gy: tensor<8x16xf32>, %z: tensor<8x16xf32>, %v: tensor<16xf32>, %r: tensor<16xf32>, %g: tensor<16xf32>, %c: tensor<16xf32>) {
  // expected-error @+1 {{failed to verify that all of {gy, z, gx} have same type}}
  %0 = un.input_grad %gy, %z, %v, %r, %g, %c : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @input_grad_eps(%gy: tensor<8x16xf32>, %z: tensor<8x16xf32>, %v: tensor<16xf32>, %r: tensor<16xf32>, %g: tensor<16xf32>, %c: tensor<16xf32>) {
  // expected-error @+1 {{'eps' must be > 0, got 0}}
  %0 = un.input_grad %gy, %z, %v, %r, %g, %c {eps = 0.0 : f32} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @affine_scale_type(%x: tensor<?x16xf16>, %s: tensor<16xbf16>, %b: tensor<16xf16>) {
  // expected-error @+1 {{'scale' must have element type f32 or that of the activations ('f16'), got 'bf16'}}
  %0 = un.affine %x, %s, %b : (tensor<?x16xf16>, tensor<16xbf16>, tensor<16xf16>) -> tensor<?x16xf16>
  return
}

// -----

func.func @affine_shift_channels(%x: tensor<?x16xf16>, %s: tensor<16xf32>, %b: tensor<12xf32>) {
  // expected-error @+1 {{channel dim of 'shift' (12) does not match channel dim of 'x' (16)}}
  %0 = un.affine %x, %s, %b : (tensor<?x16xf16>, tensor<16xf32>, tensor<12xf32>) -> tensor<?x16xf16>
  return
}

// -----

func.func @affine_result(%x: tensor<?x16xf16>, %s: tensor<16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{failed to verify that all of {x, y} have same type}}
  %0 = un.affine %x, %s, %b : (tensor<?x16xf16>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @affine_scale_rank(%x: tensor<?x16xf32>, %s: tensor<f32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{operand #1 must be 1D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<f32>'}}
  %0 = un.affine %x, %s, %b : (tensor<?x16xf32>, tensor<f32>, tensor<16xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @no_channels(%x: tensor<3x0xf32>) {
  // expected-error @+1 {{'x' has no channels: UN normalizes at least one channel}}
  %0 = un.quadratic_mean %x : (tensor<3x0xf32>) -> tensor<0xf32>
  return
}

// -----

func.func @sum_across_ranks_mixed(%v: tensor<4xf32>, %b: memref<4xf32>) {
  // expected-error @+1 {{'input' and 'init' must both be tensors or both be memrefs}}
  un.sum_across_ranks %v into %b : tensor<4xf32>, memref<4xf32>
  return
}

// -----

func.func @sum_across_ranks_no_result(%v: tensor<4xf32>, %i: tensor<4xf32>) {
  // expected-error @+1 {{on tensors must return the sum}}
  un.sum_across_ranks %v into %i : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @sum_across_ranks_memref_result(%a: memref<4xf32>, %b: memref<4xf32>) {
  // expected-error @+1 {{on memrefs has no result}}
  %0 = un.sum_across_ranks %a into %b : memref<4xf32>, memref<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @sum_across_ranks_result_type(%v: tensor<4xf32>, %i: tensor<?xf32>) {
  // expected-error @+1 {{result type 'tensor<4xf32>' must be that of 'init' ('tensor<?xf32>')}}
  %0 = un.sum_across_ranks %v into %i : tensor<4xf32>, tensor<?xf32> -> tensor<4xf32>
  return
}

// -----

func.func @sum_across_ranks_sizes(%v: tensor<4xf32>, %i: tensor<5xf32>) {
  // expected-error @+1 {{'input' has 4 elements but 'init' has 5}}
  %0 = un.sum_across_ranks %v into %i : tensor<4xf32>, tensor<5xf32> -> tensor<5xf32>
  return
}

// -----

func.func @sum_across_ranks_strided(%a: memref<4xf32, strided<[2]>>, %b: memref<4xf32>) {
  // expected-error @+1 {{'input' must have the identity layout}}
  un.sum_across_ranks %a into %b : memref<4xf32, strided<[2]>>, memref<4xf32>
  return
}

// -----

func.func @sum_across_ranks_f16(%v: tensor<4xf16>, %i: tensor<4xf16>) {
  // expected-error @+1 {{operand #0 must be 1-D tensor or memref of f32}}
  %0 = un.sum_across_ranks %v into %i : tensor<4xf16>, tensor<4xf16> -> tensor<4xf16>
  return
}
