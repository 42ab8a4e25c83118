"""The PyTorch peer of SharpLM's causal pretraining-step benchmark (bench/SharpLM.Bench causal-vs-pytorch).

usage: pytorch_causal_step.py CONFIG_JSON WEIGHTS_SAFETENSORS BATCH_SAFETENSORS STEPS WARMUP THREADS

Runs the plain PyTorch Llama of tests/reference/llama_causal.py (Hugging Face's module layout; attention written out
with a causal mask, as PyTorch 1.13 has no scaled_dot_product_attention) on one fixed batch: WARMUP untimed steps,
then STEPS timed ones, each forward + next-token loss + backward + clip at 1.0 + AdamW (no decay on norm weights,
weight decay 0.1, betas 0.9/0.99, eps 1e-8), as SharpLM's causal recipe does. Prints one JSON line: tokens/s, peak
RSS (VmHWM), first and last loss.
"""
import importlib.util
import json
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "reference"))
sys.path.insert(0, here)
spec = importlib.util.spec_from_file_location("llama", os.path.join(here, "..", "tests", "reference", "llama_causal.py"))
llama = importlib.util.module_from_spec(spec)
spec.loader.exec_module(llama)
from pytorch_pretraining_step import time_steps  # noqa: E402 (the BERT peer's loop and /proc field)


def main():
    config_path, weights_path, batch_path, steps, warmup, threads = sys.argv[1:7]
    steps, warmup = int(steps), int(warmup)
    torch.set_num_threads(int(threads))
    with open(config_path) as f:
        config = json.load(f)
    model = llama.LlamaForCausalLM(config)
    model.load_state_dict(llama.read_safetensors(weights_path), strict=True)
    model.train()
    ids = llama.read_safetensors(batch_path)["input_ids"]
    decay = [p for n, p in model.named_parameters() if not n.endswith("norm.weight")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("norm.weight")]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.99), eps=1e-8)

    def step():
        optimizer.zero_grad(set_to_none=True)
        _, loss = model.loss(ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return float(loss)

    time_steps(step, warmup, steps, ids.numel())


if __name__ == "__main__":
    main()
