// A UN training step (forward + backward) and inference UN at the ViT-S
// shape (8 x 197 tokens x 384 channels, f32), as a framework calls them.
func.func @train_step(%x: tensor<8x197x384xf32>, %gamma: tensor<384xf32>, %beta: tensor<384xf32>,
                      %rv: tensor<384xf32>, %win: tensor<4x384xf32>, %t: i64, %skips: i64,
                      %gy: tensor<8x197x384xf32>, %ema: tensor<384xf32>, %wgz: tensor<4x384xf32>)
    -> (tensor<8x197x384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64,
        tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>) {
  %y, %z, %var, %r, %skip, %rv1, %win1, %skips1 = un.train_forward %x, %gamma, %beta, %rv, %win, %t, %skips
      {outlier_filtration = true}
      : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64, i64)
     -> (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64)
  %gx, %ggamma, %gbeta, %ema1, %wgz1 = un.train_backward %gy, %z, %var, %r, %skip, %gamma, %ema, %wgz, %t
      : (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64)
     -> (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>)
  return %y, %rv1, %win1, %skips1, %gx, %ggamma, %gbeta, %ema1, %wgz1
      : tensor<8x197x384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64,
        tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>
}

func.func @inference(%x: tensor<8x197x384xf32>, %gamma: tensor<384xf32>, %beta: tensor<384xf32>,
                     %rv: tensor<384xf32>) -> tensor<8x197x384xf32> {
  %y = un.infer %x, %gamma, %beta, %rv
      : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<8x197x384xf32>
  return %y : tensor<8x197x384xf32>
}
