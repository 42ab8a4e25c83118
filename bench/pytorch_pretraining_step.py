"""The PyTorch peer of SharpLM's pretraining-step benchmark (bench/SharpLM.Bench pretrain-vs-pytorch).

usage: pytorch_pretraining_step.py CONFIG_JSON WEIGHTS_SAFETENSORS BATCH_SAFETENSORS RECIPE STEPS WARMUP THREADS

Runs the plain PyTorch BERT of tests/reference/ (Hugging Face's module layout and maths) on one fixed
batch: WARMUP untimed steps, then STEPS timed ones, each forward + backward + clip at 1.0 + AdamW (two
groups: no decay on biases and LayerNorm, eps 1e-6), as Hugging Face's pretraining recipe does.
RECIPE hf: the vocabulary projection on every position (BertForPreTraining); sparse: on the masked
positions only. Dropout follows the config. Prints one JSON line: tokens/s (real, non-padding tokens),
peak RSS (VmHWM), first and last loss.
"""
import importlib.util
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("reference", os.path.join(here, "..", "tests", "reference", "bert_pretraining.py"))
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def time_steps(step, warmup, steps, tokens):
    """Runs warmup untimed steps, then times steps more; prints the JSON line the C# benchmark reads (tokens per step)."""
    for _ in range(warmup):
        first = step()
    start = time.perf_counter()
    for _ in range(steps):
        last = step()
    seconds = time.perf_counter() - start
    print(json.dumps({"tokens_per_second": tokens * steps / seconds, "peak_rss_mb": peak_rss_mb(), "first_loss": first, "last_loss": last}))


def main():
    config_path, weights_path, batch_path, recipe, steps, warmup, threads = sys.argv[1:8]
    steps, warmup = int(steps), int(warmup)
    torch.set_num_threads(int(threads))
    with open(config_path) as f:
        config = json.load(f)
    model = reference.BertForPreTraining(config)
    model.load_state_dict(reference.read_safetensors(weights_path), strict=True)
    model.train()
    batch = reference.read_safetensors(batch_path)
    ids, types, attention = batch["input_ids"], batch["token_type_ids"], batch["attention_mask"]
    labels, nsp_labels = batch["mlm_labels"], batch["nsp_labels"]
    flat_labels = labels.reshape(-1)
    masked = (flat_labels != -100).nonzero().squeeze(1)
    targets = flat_labels[masked]
    tokens = int(attention.sum())

    decay = [p for n, p in model.named_parameters() if not (n.endswith(".bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith(".bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-4, betas=(0.9, 0.999), eps=1e-6)

    def step():
        optimizer.zero_grad(set_to_none=True)
        if recipe == "hf":
            loss, _, _ = model.loss(ids, types, attention, labels, nsp_labels)
        else:
            sequence, pooled = model.bert(ids, types, attention)
            hidden = sequence.reshape(-1, sequence.shape[-1]).index_select(0, masked)
            mlm = F.cross_entropy(model.cls.predictions(hidden), targets)
            loss = mlm + F.cross_entropy(model.cls.seq_relationship(pooled), nsp_labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return float(loss)

    time_steps(step, warmup, steps, tokens)


if __name__ == "__main__":
    main()
