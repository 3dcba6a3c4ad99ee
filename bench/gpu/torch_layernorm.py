#!/usr/bin/env python3
"""PyTorch's LayerNorm kernels beside the UN kernels (run by run.sh).

    python3 torch_layernorm.py [ITERS]

Prints JSON lines like un_gpu_bench: for ViT-S (8x197x384) and BERT-base
(8x512x768), f32 and bf16, the time per call of LayerNorm forward
(aten.native_layer_norm: y, mean, rstd), backward
(aten.native_layer_norm_backward: dx, dgamma, dbeta), forward + backward,
and a plain device copy of the activation (x.clone's traffic), measured
with CUDA events around ITERS back-to-back calls after warm-up. Bytes
counted as for UN: forward reads x, writes y (2 passes; LayerNorm has no
z); backward reads gy and x, writes dx (3 passes).
"""
import json
import sys

import torch

SHAPES = {"vits": (8, 197, 384), "bert": (8, 512, 768), "bert_b128": (128, 512, 768)}
DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}


def time_calls(fn, iters):
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    stop.record()
    stop.synchronize()
    return start.elapsed_time(stop) * 1e-3 / iters


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    dev = torch.device("cuda")
    print(json.dumps({"kind": "torch", "version": torch.__version__,
                      "device": torch.cuda.get_device_name(0)}))
    for shape_name, shape in SHAPES.items():
        C = shape[-1]
        for dtype_name, dtype in DTYPES.items():
            gen = torch.Generator(device=dev).manual_seed(0)
            x = torch.randn(shape, device=dev, dtype=dtype, generator=gen)
            gy = torch.randn(shape, device=dev, dtype=dtype, generator=gen)
            w = torch.randn(C, device=dev, dtype=dtype, generator=gen)
            b = torch.randn(C, device=dev, dtype=dtype, generator=gen)
            y, mean, rstd = torch.ops.aten.native_layer_norm(x, [C], w, b, 1e-5)
            act = x.numel() * x.element_size()
            out = torch.empty_like(x)

            def fwd():
                torch.ops.aten.native_layer_norm(x, [C], w, b, 1e-5)

            def bwd():
                torch.ops.aten.native_layer_norm_backward(gy, x, [C], mean, rstd, w, b,
                                                          [True, True, True])

            def step():
                fwd()
                bwd()

            def copy():
                out.copy_(x)

            for op, fn, nbytes in (("forward", fwd, 2 * act), ("backward", bwd, 3 * act),
                                   ("step", step, 5 * act), ("copy", copy, 2 * act)):
                s = time_calls(fn, iters)
                print(json.dumps({"kind": "torch_layernorm", "shape": shape_name,
                                  "dims": list(shape), "dtype": dtype_name, "op": op,
                                  "us": round(s * 1e6, 3), "bytes": nbytes,
                                  "gbps": round(nbytes / s * 1e-9, 1)}), flush=True)


if __name__ == "__main__":
    main()
