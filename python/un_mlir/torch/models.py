"""Transformer blocks written with plain torch.nn modules, as users write
them: a ViT encoder block (timm-style attention, explicit or through
scaled_dot_product_attention) and a BERT layer (Hugging Face-style). Used
by the torch-mlir tests; not a model zoo."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class ViTAttention(nn.Module):
    def __init__(self, dim, heads, fused=False, drop=0.1):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.fused = fused
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = nn.Dropout(drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(drop)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if self.fused:
            x = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q @ k.transpose(-2, -1)) * self.scale
            attn = attn.softmax(dim=-1)
            attn = self.attn_drop(attn)
            x = attn @ v
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class ViTMlp(nn.Module):
    def __init__(self, dim, hidden, drop=0.1):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x):
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class ViTBlock(nn.Module):
    """Pre-norm ViT encoder block (ViT-S: dim 384, 6 heads, mlp 1536)."""

    def __init__(self, dim=384, heads=6, mlp_ratio=4, fused=False):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = ViTAttention(dim, heads, fused)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = ViTMlp(dim, dim * mlp_ratio)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads, drop=0.1):
        super().__init__()
        self.heads = heads
        self.head_size = hidden // heads
        self.all_head_size = hidden
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(drop)

    def transpose_for_scores(self, x):
        x = x.view(x.size()[:-1] + (self.heads, self.head_size))
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask):
        q = self.transpose_for_scores(self.query(hidden_states))
        k = self.transpose_for_scores(self.key(hidden_states))
        v = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size)
        scores = scores + attention_mask
        probs = self.dropout(F.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size()[:-2] + (self.all_head_size,))


class BertOutput(nn.Module):
    def __init__(self, inner, hidden, eps=1e-12, drop=0.1):
        super().__init__()
        self.dense = nn.Linear(inner, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)
        self.dropout = nn.Dropout(drop)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertLayer(nn.Module):
    """Post-norm BERT layer (BERT-base: hidden 768, 12 heads, inner 3072).
    `attention_mask` is additive, [B, 1, 1, N] (0 keep, -10000 padding)."""

    def __init__(self, hidden=768, heads=12, inner=3072):
        super().__init__()
        self.attention = BertSelfAttention(hidden, heads)
        self.attention_output = BertOutput(hidden, hidden)
        self.intermediate = nn.Linear(hidden, inner)
        self.intermediate_act = nn.GELU()
        self.output = BertOutput(inner, hidden)

    def forward(self, hidden_states, attention_mask):
        a = self.attention_output(self.attention(hidden_states, attention_mask), hidden_states)
        return self.output(self.intermediate_act(self.intermediate(a)), a)
