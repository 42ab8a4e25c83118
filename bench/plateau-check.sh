#!/usr/bin/env bash
# Is the frequency plateau SharpLM's or the recipe's? (docs/pretraining.md) A synthetic corpus where
# every masked word follows from its neighbours (runs of the NATO alphabet in order, "delta echo
# foxtrot , kilo lima mike ."), so a model that uses position and context reaches near-zero loss and
# one that only counts words (or uses the bag of words around the mask) stays near 2-3 nats. SharpLM
# (the bert recipe: post-LayerNorm tiny BERT, MLM + NSP, constant learning rate 5e-4 after 100 warmup
# steps, batch 32) and the same model and data in plain PyTorch 1.13 (bench/pytorch_pretraining_steps.py)
# train STEPS steps side by side, one thread each, evaluating every 100 steps; the script prints both
# validation curves (masked-LM loss, accuracy), which should leave the plateau at about the same step.
# Needs: the .NET 10 SDK, Debian's python3-torch and libopenblas0-pthread (installed if missing, as root).
steps="${STEPS:-1500}"
. "$(dirname "$0")/prelude.sh" python3-torch libopenblas0-pthread
python3 - "$work/corpus.txt" <<'PY'
import random, sys
random.seed(1)
words = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo "
         "sierra tango uniform victor whiskey xray yankee zulu").split()
with open(sys.argv[1], "w") as f:
    for document in range(3000):
        for sentence in range(6):
            runs = []
            for _ in range(random.randrange(2, 4)):
                start, length = random.randrange(26), random.randrange(3, 8)
                runs.append(" ".join(words[(start + i) % 26] for i in range(length)))
            f.write(" , ".join(runs) + " .\n")
        f.write("\n")
PY
rm -rf "$work/data" "$work/sharplm"
$sharplm vocab train --input "$work/corpus.txt" --vocab-size 200 --output "$work/vocab.txt" >/dev/null 2>&1
$sharplm data prepare --corpus "$work/corpus.txt" --vocab "$work/vocab.txt" --output "$work/data" --seed 1 >/dev/null 2>&1
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
vocab = sum(1 for _ in open(f"{work}/vocab.txt"))
config = {"vocab_size": vocab, "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 512,
          "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512,
          "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0}
json.dump(config, open(f"{work}/config.json", "w"))
PY
$sharplm pretrain --recipe bert --data "$work/data" --config "$work/config.json" --schedule constant --max-steps "$steps" --warmup-steps 100 \
  --lr 5e-4 --eval-every 100 --log-every 100 --save-every 0 --threads 1 --output "$work/sharplm" --seed 1 >/dev/null 2>&1 &
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch_pretraining_steps.py "$work/data" "$work/config.json" \
  "$work/pytorch.jsonl" "$steps" 100 5e-4 100 32 1 1 >/dev/null
wait
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
ours = {r["step"]: r["validation"] for r in map(json.loads, open(f"{work}/sharplm/metrics.jsonl")) if r.get("validation")}
theirs = {r["step"]: r["validation"] for r in map(json.loads, open(f"{work}/pytorch.jsonl"))}
print("step  SharpLM loss / accuracy   PyTorch loss / accuracy")
for step in sorted(set(ours) & set(theirs)):
    a, b = ours[step], theirs[step]
    print(f"{step:5d}  {a['masked_lm_loss']:.3f} / {a['masked_lm_accuracy']:.1%}          {b['masked_lm_loss']:.3f} / {b['masked_lm_accuracy']:.1%}")
PY
