"""Reference BertForPreTraining in plain PyTorch, for SharpLM's parity tests.

Written from the BERT paper and the layout of Hugging Face's modeling_bert.py (same module names, so the
same parameter names), post-LayerNorm, exact GELU, eager softmax attention with an additive padding mask,
and Hugging Face's position_embedding_type: "absolute", or "relative_key" / "relative_key_query" (a
distance_embedding per layer whose dot product with the query, and the key, joins the scores before scaling).
Needs only PyTorch (Debian's python3-torch, 1.13); safetensors are read and written by hand.

usage: bert_pretraining.py CONFIG_JSON WEIGHTS_SAFETENSORS BATCH_SAFETENSORS OUTPUT_SAFETENSORS LR WEIGHT_DECAY

The model runs in the dtype of the weights file (float32 or float64).

Writes to OUTPUT: loss.total, loss.mlm, loss.nsp; grad.NAME for every parameter the loss uses; after.NAME, every
parameter after one torch.optim.AdamW step (betas 0.9/0.999, eps 1e-6).
"""
import json
import math
import struct
import sys

import torch
from torch import nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "I64": torch.int64, "F64": torch.float64}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(data[start:end]), dtype=DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for raw in chunks:
            f.write(raw)


def activation(name, x):
    if name == "gelu":
        return F.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "relu":
        return F.relu(x)
    return F.silu(x)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        self.absolute = c.get("position_embedding_type", "absolute") == "absolute"

    def forward(self, ids, types):
        x = self.word_embeddings(ids)
        if self.absolute:
            x = x + self.position_embeddings(torch.arange(ids.shape[1]).unsqueeze(0))
        x = x + self.token_type_embeddings(types)
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])
        self.position_type = c.get("position_embedding_type", "absolute")
        self.max_positions = c["max_position_embeddings"]
        if self.position_type != "absolute":
            self.distance_embedding = nn.Embedding(2 * self.max_positions - 1, h // self.heads)

    def forward(self, x, mask):
        b, t, h = x.shape
        split = lambda y: y.view(b, t, self.heads, h // self.heads).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2)
        if self.position_type != "absolute":
            distance = torch.arange(t).view(-1, 1) - torch.arange(t).view(1, -1)
            vectors = self.distance_embedding(distance + self.max_positions - 1)
            scores = scores + torch.einsum("bhld,lrd->bhlr", q, vectors)
            if self.position_type == "relative_key_query":
                scores = scores + torch.einsum("bhrd,lrd->bhlr", k, vectors)
        scores = scores / math.sqrt(h // self.heads) + mask
        probs = self.dropout(scores.softmax(-1))
        return (probs @ v).transpose(1, 2).reshape(b, t, h)


class ResidualOutput(nn.Module):
    def __init__(self, c, inputs):
        super().__init__()
        self.dense = nn.Linear(inputs, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = ResidualOutput(c, c["hidden_size"])

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = c["hidden_act"]

    def forward(self, x):
        return activation(self.act, self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = ResidualOutput(c, c["intermediate_size"])

    def forward(self, x, mask):
        attended = self.attention(x, mask)
        return self.output(self.intermediate(attended), attended)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x, mask):
        for block in self.layer:
            x = block(x, mask)
        return x


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, ids, types, attention_mask):
        dtype = self.embeddings.word_embeddings.weight.dtype
        mask = (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
        sequence = self.encoder(self.embeddings(ids, types), mask)
        return sequence, self.pooler(sequence)


class Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.act = c["hidden_act"]

    def forward(self, x):
        return self.LayerNorm(activation(self.act, self.dense(x)))


class Predictions(nn.Module):
    def __init__(self, c, embeddings):
        super().__init__()
        self.transform = Transform(c)
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.embeddings = [embeddings]  # a list, so the tied matrix is not registered twice

    def forward(self, x):
        return F.linear(self.transform(x), self.embeddings[0].weight, self.bias)


class Heads(nn.Module):
    def __init__(self, c, embeddings):
        super().__init__()
        self.predictions = Predictions(c, embeddings)
        self.seq_relationship = nn.Linear(c["hidden_size"], 2)


class BertForPreTraining(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = Bert(c)
        self.cls = Heads(c, self.bert.embeddings.word_embeddings)

    def loss(self, ids, types, attention_mask, mlm_labels, nsp_labels):
        sequence, pooled = self.bert(ids, types, attention_mask)
        logits = self.cls.predictions(sequence)
        mlm = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), mlm_labels.reshape(-1), ignore_index=-100)
        nsp = F.cross_entropy(self.cls.seq_relationship(pooled), nsp_labels)
        return mlm + nsp, mlm, nsp


def main():
    config_path, weights_path, batch_path, output_path, lr, weight_decay = sys.argv[1:7]
    torch.set_num_threads(1)
    with open(config_path) as f:
        config = json.load(f)
    model = BertForPreTraining(config)
    weights = read_safetensors(weights_path)
    model.to(next(iter(weights.values())).dtype)
    model.load_state_dict(weights, strict=True)
    model.train()  # dropout probabilities are 0 in the parity configs
    batch = read_safetensors(batch_path)
    total, mlm, nsp = model.loss(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"], batch["mlm_labels"], batch["nsp_labels"])
    total.backward()
    out = {"loss.total": total.detach(), "loss.mlm": mlm.detach(), "loss.nsp": nsp.detach()}
    for name, p in model.named_parameters():
        # A parameter the loss does not use (the position embeddings under relative positions) has no gradient.
        if p.grad is not None:
            out["grad." + name] = p.grad.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=float(lr), betas=(0.9, 0.999), eps=1e-6, weight_decay=float(weight_decay))
    optimizer.step()
    for name, p in model.named_parameters():
        out["after." + name] = p.detach().clone()
    write_safetensors(output_path, out)


if __name__ == "__main__":
    main()
