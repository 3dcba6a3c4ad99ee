#!/usr/bin/env python3
"""The LayerNorm Transformer blocks beside the UN-folded ones (run by run.sh).

    python3 torch_block.py [ITERS]

Prints JSON lines like un_gpu_bench: for each block of un_gpu_bench
(ViT-S with 197 tokens and BERT-base with 128, batch 1 and 8; the same
layers, with nn.LayerNorm where UN was folded away: torch_encoder.py), eval
mode, the time per call of PyTorch eager, measured with CUDA events around
ITERS back-to-back calls after warm-up: in f32 with TF32 off (key as
un_gpu_bench's), with TF32 matmuls (`<key>-tf32`) and in bf16
(`<key>-bf16`); each also replayed as one captured CUDA graph
(`"kind": "torch_block_graph"`).
"""
import json
import sys
from types import SimpleNamespace

import torch
from torch import nn

from torch_encoder import EncoderBlock
from torch_layernorm import time_calls

VIT = dict(kind="vit", tokens=197, channels=384, heads=6, mlp=1536)
BERT = dict(kind="bert", tokens=128, channels=768, heads=12, mlp=3072)
BLOCKS = {"vit-b1": (VIT, 1), "vit-b8": (VIT, 8), "bert-b1": (BERT, 1), "bert-b8": (BERT, 8)}


def time_graph(fn, iters):
    """Seconds per replay of one CUDA graph captured from `fn()` (warmed up
    on a side stream first, as torch.cuda.graph asks)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return time_calls(graph.replay, iters)


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    dev = torch.device("cuda")
    torch.manual_seed(0)
    for key, (config, batch) in BLOCKS.items():
        d = SimpleNamespace(**config)
        block = EncoderBlock(d.kind, d, lambda C: nn.LayerNorm(C)).to(dev).eval()
        x = torch.randn(batch, d.tokens, d.channels, device=dev)
        for suffix, dtype, tf32 in (("", torch.float32, False), ("-tf32", torch.float32, True),
                                    ("-bf16", torch.bfloat16, False)):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
            model, inputs = block.to(dtype), x.to(dtype)
            with torch.inference_mode():
                seconds = time_calls(lambda: model(inputs), iters)
                print(json.dumps({"kind": "torch_block", "block": key + suffix,
                                  "dims": [batch, d.tokens, d.channels],
                                  "us": seconds * 1e6}))
                sys.stdout.flush()
                print(json.dumps({"kind": "torch_block_graph", "block": key + suffix,
                                  "us": time_graph(lambda: model(inputs), iters) * 1e6}))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
