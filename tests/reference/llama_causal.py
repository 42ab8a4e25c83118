"""Reference LlamaForCausalLM in plain PyTorch, for SharpLM's parity tests.

Written from the Llama paper and the layout of Hugging Face's modeling_llama.py (same module names, so the
same parameter names): pre-RMSNorm blocks, rotary embeddings in the "rotate half" layout, SwiGLU, no biases,
grouped-query attention by repeating key/value heads, and a tied or separate lm_head. Debian's PyTorch 1.13
has no scaled_dot_product_attention, so attention is written out: softmax(q k^T / sqrt(d) + causal mask) v.
Needs only PyTorch (python3-torch); safetensors are read and written by hand (bert_pretraining.py's helpers).

usage: llama_causal.py CONFIG_JSON WEIGHTS_SAFETENSORS BATCH_SAFETENSORS OUTPUT_SAFETENSORS LR WEIGHT_DECAY

Writes to OUTPUT: loss; logits; grad.NAME for every parameter; after.NAME, every parameter after one
torch.optim.AdamW step (betas 0.9/0.999, eps 1e-8). The model runs in the dtype of the weights file.
"""
import json
import math
import sys

import torch
from torch import nn
import torch.nn.functional as F

from bert_pretraining import read_safetensors, write_safetensors


class LlamaRMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def rotary(head_size, theta, length, dtype):
    inverse = 1.0 / (theta ** (torch.arange(0, head_size, 2, dtype=torch.float64) / head_size))
    angles = torch.outer(torch.arange(length, dtype=torch.float64), inverse)
    both = torch.cat([angles, angles], dim=-1)
    return both.cos().to(dtype), both.sin().to(dtype)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads", self.heads)
        self.head_size = c["hidden_size"] // self.heads
        self.q_proj = nn.Linear(c["hidden_size"], self.heads * self.head_size, bias=False)
        self.k_proj = nn.Linear(c["hidden_size"], self.kv_heads * self.head_size, bias=False)
        self.v_proj = nn.Linear(c["hidden_size"], self.kv_heads * self.head_size, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_size, c["hidden_size"], bias=False)

    def forward(self, x, cos, sin):
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, self.heads, self.head_size).transpose(1, 2)
        k = self.k_proj(x).view(b, n, self.kv_heads, self.head_size).transpose(1, 2)
        v = self.v_proj(x).view(b, n, self.kv_heads, self.head_size).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size)
        future = torch.ones(n, n, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
        context = scores.softmax(-1) @ v
        return self.o_proj(context.transpose(1, 2).reshape(b, n, -1))


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.up_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(c["intermediate_size"], c["hidden_size"], bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMLP(c)
        self.input_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.head_size = c["hidden_size"] // c["num_attention_heads"]
        self.theta = c.get("rope_theta", 10000.0)

    def forward(self, ids):
        x = self.embed_tokens(ids)
        cos, sin = rotary(self.head_size, self.theta, ids.shape[1], x.dtype)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = LlamaModel(c)
        self.tied = c.get("tie_word_embeddings", False)
        if not self.tied:
            self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def forward(self, ids):
        hidden = self.model(ids)
        weight = self.model.embed_tokens.weight if self.tied else self.lm_head.weight
        return hidden @ weight.t()

    def loss(self, ids):
        logits = self(ids)
        return logits, F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def main():
    config_path, weights_path, batch_path, output_path, lr, weight_decay = sys.argv[1:7]
    torch.set_num_threads(1)
    with open(config_path) as f:
        config = json.load(f)
    model = LlamaForCausalLM(config)
    weights = read_safetensors(weights_path)
    model.to(next(iter(weights.values())).dtype)
    model.load_state_dict(weights, strict=True)
    batch = read_safetensors(batch_path)
    logits, loss = model.loss(batch["input_ids"])
    loss.backward()
    out = {"loss": loss.detach(), "logits": logits.detach()}
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=float(lr), betas=(0.9, 0.999), eps=1e-8, weight_decay=float(weight_decay))
    optimizer.step()
    for name, p in model.named_parameters():
        out["after." + name] = p.detach().clone()
    write_safetensors(output_path, out)


if __name__ == "__main__":
    main()
