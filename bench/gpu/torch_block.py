#!/usr/bin/env python3
"""The LayerNorm Transformer blocks beside the UN-folded ones (run by run.sh).

    python3 torch_block.py [ITERS]

Prints JSON lines like un_gpu_bench: for each block of un_gpu_bench
(ViT-S with 197 tokens and BERT-base with 128, batch 1 and 8; the same
layers, with nn.LayerNorm where UN was folded away: torch_encoder.py), f32,
eval mode, the time per call of PyTorch eager, measured with CUDA events
around ITERS back-to-back calls after warm-up.
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


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    dev = torch.device("cuda")
    torch.manual_seed(0)
    for key, (config, batch) in BLOCKS.items():
        d = SimpleNamespace(**config)
        block = EncoderBlock(d.kind, d, lambda C: nn.LayerNorm(C)).to(dev).eval()
        x = torch.randn(batch, d.tokens, d.channels, device=dev)
        with torch.inference_mode():
            seconds = time_calls(lambda: block(x), iters)
        print(json.dumps({"kind": "torch_block", "block": key,
                          "dims": [batch, d.tokens, d.channels], "us": seconds * 1e6}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
