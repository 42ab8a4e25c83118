"""Reference ELECTRA pretraining step in plain PyTorch, for SharpLM's parity test.

Written from the ELECTRA paper and the layout of Hugging Face's modeling_electra.py (same module names,
so the same parameter names): ElectraModel (embeddings of width embedding_size, embeddings_project to
the hidden size when they differ, the BERT encoder of bert_pretraining.py, no pooler),
ElectraForPreTraining (discriminator_predictions) and ElectraForMaskedLM (generator_predictions,
generator_lm_head tied to the word embeddings). The generator embeds with the discriminator's
embeddings, as in ELECTRA's pretraining.

usage: electra_pretraining.py DISCRIMINATOR_CONFIG GENERATOR_CONFIG DISCRIMINATOR_WEIGHTS GENERATOR_WEIGHTS BATCH OUTPUT

BATCH holds input_ids (with the masks), token_type_ids, attention_mask, positions (masked positions as
indexes into the flattened grid), labels (the original ids there), original (the ids before masking) and corrupted (the discriminator's
input: the generator's samples at the masked positions; sampling is random, so the test passes the
samples SharpLM drew). Writes loss.total, loss.generator, loss.discriminator, and grad.NAME for every
parameter, named discriminator.* and generator.* as in SharpLM's ElectraPretraining.
"""
import importlib.util
import json
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F

spec = importlib.util.spec_from_file_location("bert", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bert_pretraining.py"))
bert = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bert)


class ElectraModel(nn.Module):
    def __init__(self, c, shared_embeddings=None):
        super().__init__()
        width = dict(c, hidden_size=c["embedding_size"])
        if shared_embeddings is None:
            self.embeddings = bert.Embeddings(width)
        else:
            self.shared = [shared_embeddings]  # a list, so the shared module is not registered twice
        if c["embedding_size"] != c["hidden_size"]:
            self.embeddings_project = nn.Linear(c["embedding_size"], c["hidden_size"])
        self.encoder = bert.Encoder(c)

    def forward(self, ids, types, attention_mask):
        embeddings = self.embeddings if hasattr(self, "embeddings") else self.shared[0]
        x = embeddings(ids, types)
        if hasattr(self, "embeddings_project"):
            x = self.embeddings_project(x)
        dtype = x.dtype
        mask = (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
        return self.encoder(x, mask)


class DiscriminatorPredictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.dense_prediction = nn.Linear(c["hidden_size"], 1)
        self.act = c["hidden_act"]

    def forward(self, x):
        return self.dense_prediction(bert.activation(self.act, self.dense(x))).squeeze(-1)


class ElectraForPreTraining(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.electra = ElectraModel(c)
        self.discriminator_predictions = DiscriminatorPredictions(c)

    def forward(self, ids, types, attention_mask):
        return self.discriminator_predictions(self.electra(ids, types, attention_mask))


class GeneratorPredictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(c["embedding_size"], eps=c["layer_norm_eps"])
        self.dense = nn.Linear(c["hidden_size"], c["embedding_size"])

    def forward(self, x):
        return self.LayerNorm(F.gelu(self.dense(x)))


class GeneratorHead(nn.Module):
    def __init__(self, c, word_embeddings):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.tied = [word_embeddings]

    def forward(self, x):
        return F.linear(x, self.tied[0].weight, self.bias)


class ElectraForMaskedLM(nn.Module):
    def __init__(self, c, shared_embeddings):
        super().__init__()
        self.electra = ElectraModel(c, shared_embeddings)
        self.generator_predictions = GeneratorPredictions(c)
        self.generator_lm_head = GeneratorHead(c, shared_embeddings.word_embeddings)

    def forward(self, ids, types, attention_mask):
        return self.generator_lm_head(self.generator_predictions(self.electra(ids, types, attention_mask)))


def main():
    disc_config, gen_config, disc_weights, gen_weights, batch_path, output_path = sys.argv[1:7]
    torch.set_num_threads(1)
    with open(disc_config) as f:
        dc = json.load(f)
    with open(gen_config) as f:
        gc = json.load(f)
    discriminator = ElectraForPreTraining(dc)
    generator = ElectraForMaskedLM(gc, discriminator.electra.embeddings)
    dw, gw = bert.read_safetensors(disc_weights), bert.read_safetensors(gen_weights)
    dtype = next(iter(dw.values())).dtype
    discriminator.to(dtype)
    generator.to(dtype)
    discriminator.load_state_dict(dw, strict=True)
    # The generator's file also holds its copy of the shared embeddings: the discriminator's, already loaded.
    generator.load_state_dict({k: v for k, v in gw.items() if not k.startswith("electra.embeddings.")}, strict=True)
    discriminator.train()
    generator.train()  # dropout probabilities are 0 in the parity config
    b = bert.read_safetensors(batch_path)
    ids, types, attention = b["input_ids"], b["token_type_ids"], b["attention_mask"]
    positions, labels, corrupted = b["positions"], b["labels"], b["corrupted"]

    logits = generator(ids, types, attention)
    at_masks = logits.reshape(-1, logits.shape[-1])[positions]
    generator_loss = F.cross_entropy(at_masks, labels)
    replaced = (corrupted != b["original"]).to(dtype)
    scores = discriminator(corrupted, types, attention)
    active = attention.reshape(-1) == 1
    discriminator_loss = F.binary_cross_entropy_with_logits(scores.reshape(-1)[active], replaced.reshape(-1)[active])
    total = generator_loss + 50.0 * discriminator_loss
    total.backward()

    out = {"loss.total": total.detach(), "loss.generator": generator_loss.detach(), "loss.discriminator": discriminator_loss.detach()}
    for name, p in discriminator.named_parameters():
        out["grad.discriminator." + name] = p.grad.detach().clone()
    for name, p in generator.named_parameters():
        out["grad.generator." + name] = p.grad.detach().clone()
    bert.write_safetensors(output_path, out)


if __name__ == "__main__":
    main()
