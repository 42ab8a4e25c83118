"""Hugging Face's pretraining recipe in plain PyTorch, by steps: the per-step curve to set beside
`sharplm pretrain --schedule constant --max-steps N` on the same prepared data (docs/pretraining.md,
"Is the plateau SharpLM's?").

usage: pytorch_pretraining_steps.py DATA_DIR CONFIG_JSON OUTPUT_JSONL MAX_STEPS EVAL_EVERY LR WARMUP BATCH THREADS SEED

The model, data reading and optimiser are bench/pytorch_pretraining_run.py's (AdamW in two groups,
eps 1e-6, clipping at 1.0); the learning rate rises linearly over WARMUP steps and then stays at LR.
Every EVAL_EVERY steps the masked-LM loss and accuracy over the whole validation split (the run script's evaluate) go to OUTPUT_JSONL.
On data prepared with --no-nsp the loss is the masked LM's alone. CONFIG_JSON's position_embedding_type
("absolute", "relative_key", "relative_key_query") is the reference model's, as in Hugging Face's BERT.
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run", os.path.join(here, "pytorch_pretraining_run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)


def main():
    data, config_path, output, max_steps, eval_every, lr, warmup, batch_size, threads, seed = sys.argv[1:11]
    max_steps, eval_every, lr, warmup, batch_size = int(max_steps), int(eval_every), float(lr), int(warmup), int(batch_size)
    torch.set_num_threads(int(threads))
    torch.manual_seed(int(seed))
    with open(config_path) as f:
        config = json.load(f)
    with open(os.path.join(data, "manifest.json")) as f:
        manifest = json.load(f)
    train, seq, preds = run.load_split(data, manifest, "train")
    validation, _, _ = run.load_split(data, manifest, "validation")
    pad_id = config.get("pad_token_id", 0)
    next_sentence = manifest["options"].get("next_sentence", True)
    model = run.initialised_model(config)
    optimizer = run.adamw(model, lr)

    rng = np.random.default_rng(int(seed))
    order, position = rng.permutation(len(train)), 0
    log = open(output, "w")
    clock = time.perf_counter()
    model.train()
    for step in range(1, max_steps + 1):
        if position + batch_size > len(order):
            order, position = rng.permutation(len(train)), 0
        ids, types, attention, labels, nsp, _ = run.batch_of(train[order[position:position + batch_size]], seq, preds, pad_id)
        position += batch_size
        rate = lr * step / warmup if step < warmup else lr
        for group in optimizer.param_groups:
            group["lr"] = rate
        optimizer.zero_grad(set_to_none=True)
        loss, mlm, _ = model.loss(ids, types, attention, labels, nsp)
        (loss if next_sentence else mlm).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % eval_every == 0:
            loss_value, accuracy = run.evaluate(model, validation, seq, preds, pad_id, batch_size)
            record = {"step": step, "masked_lm_loss": float(mlm), "elapsed_seconds": time.perf_counter() - clock,
                      "validation": {"masked_lm_loss": loss_value, "masked_lm_accuracy": accuracy}}
            log.write(json.dumps(record) + "\n")
            log.flush()
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
