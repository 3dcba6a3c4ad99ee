"""The Transformer encoder block of un_mlir.blocks.block_mlir in PyTorch,
for the benchmarks' PyTorch contenders (bench/cpu/bench_model.py on the
CPU, bench/gpu/torch_block.py on a GPU, where only PyTorch is installed).

`d` is any object with `channels`, `heads` and `mlp` (un_mlir.blocks.Dims);
`make_norm(C)` makes each of the block's two normalizations.
"""
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    """Multi-head self-attention through F.scaled_dot_product_attention,
    with Q/K/V as one Linear (timm's ViT) or three (Hugging Face's BERT)."""

    def __init__(self, C, heads, fused_qkv):
        super().__init__()
        self.heads = heads
        self.fused_qkv = fused_qkv
        if fused_qkv:
            self.qkv = nn.Linear(C, 3 * C)
        else:
            self.query, self.key, self.value = (nn.Linear(C, C) for _ in range(3))
        self.proj = nn.Linear(C, C)

    def forward(self, x):
        B, T, C = x.shape
        H = self.heads
        if self.fused_qkv:
            q, k, v = self.qkv(x).reshape(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4).unbind(0)
        else:
            q, k, v = (lin(x).view(B, T, H, C // H).transpose(1, 2)
                       for lin in (self.query, self.key, self.value))
        a = F.scaled_dot_product_attention(q, k, v)
        return self.proj(a.transpose(1, 2).reshape(B, T, C))


class Mlp(nn.Module):
    def __init__(self, C, hidden):
        super().__init__()
        self.fc1 = nn.Linear(C, hidden)
        self.act = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(hidden, C)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class EncoderBlock(nn.Module):
    """Pre-norm ("vit") or post-norm ("bert")."""

    def __init__(self, kind, d, make_norm):
        super().__init__()
        C = d.channels
        self.pre_norm = kind == "vit"
        self.attn = Attention(C, d.heads, fused_qkv=kind == "vit")
        self.mlp = Mlp(C, d.mlp)
        self.norm1, self.norm2 = make_norm(C), make_norm(C)

    def forward(self, x):
        if self.pre_norm:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.mlp(x))
