"""Hugging Face's pretraining recipe in plain PyTorch on SharpLM's prepared data, for the time-to-quality
comparison of docs/benchmarks.md (bench/time-to-quality.sh).

usage: pytorch_pretraining_run.py DATA_DIR CONFIG_JSON OUTPUT_JSONL MAX_SECONDS EVAL_EVERY LR WARMUP BATCH THREADS SEED

The model is tests/reference/bert_pretraining.py (Hugging Face's BertForPreTraining: the vocabulary
projection on every position, dropout as configured), initialised by PyTorch. The data are the
records of a `sharplm data prepare` folder (static masks), shuffled per epoch, padded to the longest
example of each batch. AdamW in two groups (no decay on biases and LayerNorm, 0.01 elsewhere, eps
1e-6), clipping at 1.0, linear warmup over WARMUP steps then linear decay by the elapsed fraction of
MAX_SECONDS, as `sharplm pretrain --max-time` does. On data prepared with --no-nsp the loss is the masked
LM's alone (Hugging Face's BertForMaskedLM). Every EVAL_EVERY steps and at the end, the masked-LM loss and
accuracy over the whole validation split go to OUTPUT_JSONL with the elapsed seconds.
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("reference", os.path.join(here, "..", "tests", "reference", "bert_pretraining.py"))
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)


def load_split(folder, manifest, split):
    seq, preds = manifest["options"]["max_seq_length"], manifest["options"]["max_predictions"]
    width = 4 + seq + 3 * preds
    parts = [np.fromfile(os.path.join(folder, s["file"]), dtype="<i4").reshape(-1, width) for s in manifest["shards"] if s["split"] == split]
    return np.concatenate(parts), seq, preds


def batch_of(records, seq, preds, pad_id):
    lengths = records[:, 0]
    longest = int(lengths.max())
    n = len(records)
    ids = np.full((n, longest), pad_id, dtype=np.int64)
    types = np.zeros((n, longest), dtype=np.int64)
    attention = np.zeros((n, longest), dtype=np.int64)
    labels = np.full((n, longest), -100, dtype=np.int64)
    for b, r in enumerate(records):
        length, a_length, masked = int(r[0]), int(r[1]), int(r[3])
        ids[b, :length] = r[4:4 + length]
        types[b, a_length:length] = 1
        attention[b, :length] = 1
        positions = r[4 + seq:4 + seq + masked]
        ids[b, positions] = r[4 + seq + preds:4 + seq + preds + masked]
        labels[b, positions] = r[4 + seq + 2 * preds:4 + seq + 2 * preds + masked]
    nsp = torch.from_numpy(records[:, 2].astype(np.int64))
    return torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(attention), torch.from_numpy(labels), nsp, int(lengths.sum())


def initialised_model(config):
    """The reference BertForPreTraining with Hugging Face's initialisation: N(0, 0.02), zero biases, unit LayerNorm."""
    model = reference.BertForPreTraining(config)
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
            module.weight.data.normal_(0.0, config.get("initializer_range", 0.02))
        if isinstance(module, torch.nn.Linear) and module.bias is not None:
            module.bias.data.zero_()
        if isinstance(module, torch.nn.LayerNorm):
            module.weight.data.fill_(1.0)
            module.bias.data.zero_()
    return model


def adamw(model, lr):
    """AdamW in two groups: weight decay 0.01 on weights, none on biases and LayerNorm; eps 1e-6."""
    decay = [p for n, p in model.named_parameters() if not (n.endswith(".bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith(".bias") or "LayerNorm" in n]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=lr, eps=1e-6)


def evaluate(model, validation, seq, preds, pad_id, batch_size):
    """Masked-LM loss and accuracy over the whole validation split, the vocabulary projection on the masked
    positions only (the same loss as projecting every position, without spending the budget on the rest)."""
    model.eval()
    total, masked, correct = 0.0, 0, 0
    with torch.no_grad():
        for start in range(0, len(validation), batch_size):
            ids, types, attention, labels, _, _ = batch_of(validation[start:start + batch_size], seq, preds, pad_id)
            sequence, _ = model.bert(ids, types, attention)
            chosen = labels != -100
            logits = model.cls.predictions(sequence[chosen])
            total += float(F.cross_entropy(logits, labels[chosen], reduction="sum"))
            masked += int(chosen.sum())
            correct += int((logits.argmax(-1) == labels[chosen]).sum())
    model.train()
    return total / masked, correct / masked


def main():
    data, config_path, output, max_seconds, eval_every, lr, warmup, batch_size, threads, seed = sys.argv[1:11]
    max_seconds, eval_every, lr, warmup, batch_size = float(max_seconds), int(eval_every), float(lr), int(warmup), int(batch_size)
    torch.set_num_threads(int(threads))
    torch.manual_seed(int(seed))
    with open(config_path) as f:
        config = json.load(f)
    with open(os.path.join(data, "manifest.json")) as f:
        manifest = json.load(f)
    train, seq, preds = load_split(data, manifest, "train")
    validation, _, _ = load_split(data, manifest, "validation")
    pad_id = config.get("pad_token_id", 0)
    next_sentence = manifest["options"].get("next_sentence", True)

    model = initialised_model(config)
    optimizer = adamw(model, lr)

    rng = np.random.default_rng(int(seed))
    order, position, step, tokens = rng.permutation(len(train)), 0, 0, 0
    log = open(output, "w")
    clock = time.perf_counter()
    model.train()
    while True:
        elapsed = time.perf_counter() - clock
        if elapsed >= max_seconds:
            break
        if position + batch_size > len(order):
            order, position = rng.permutation(len(train)), 0
        ids, types, attention, labels, nsp, real = batch_of(train[order[position:position + batch_size]], seq, preds, pad_id)
        position += batch_size
        rate = lr * step / warmup if step < warmup else lr * (1 - min(1.0, elapsed / max_seconds))
        for group in optimizer.param_groups:
            group["lr"] = rate
        optimizer.zero_grad(set_to_none=True)
        loss, mlm, _ = model.loss(ids, types, attention, labels, nsp)
        (loss if next_sentence else mlm).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        tokens += real
        last = time.perf_counter() - clock >= max_seconds
        if step % eval_every == 0 or last:
            validation_loss, accuracy = evaluate(model, validation, seq, preds, pad_id, batch_size)
            record = {"step": step, "loss": float(loss if next_sentence else mlm), "masked_lm_loss": float(mlm), "elapsed_seconds": time.perf_counter() - clock,
                      "tokens_per_second": tokens / (time.perf_counter() - clock),
                      "validation": {"masked_lm_loss": validation_loss, "masked_lm_accuracy": accuracy}}
            log.write(json.dumps(record) + "\n")
            log.flush()
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
