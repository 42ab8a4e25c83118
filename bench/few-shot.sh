#!/usr/bin/env bash
# Few-shot classification with prompts (docs/adaptation.md): on the spam-or-ham emails of data/make-spam-dataset.sh,
# K labelled emails per class (K = 16 and 32), drawn five times (seeds 1-5) from train.jsonl. From the same masked-LM
# model, each sample is fine-tuned two ways with the same settings (15 epochs, batch 8, lr 1e-4, first 128 tokens,
# no dev set: the last model is kept, as true few-shot learning has no large dev split):
#   head:   finetune classify (a new classifier head on [CLS]);
#   prompt: finetune classify --prompt (PET: the masked LM's own head, through the prompt and verbalizer below).
# Each model is scored on test.jsonl, as are the model zero-shot through the prompt and the majority class.
# Prints one line per run, then mean and standard deviation per K and method.
# usage: bench/few-shot.sh MODEL_FOLDER   (BENCH_WORK=DIR keeps the data and models there)
model="$(realpath "$1")"
set --
. "$(dirname "$0")/prelude.sh"
[ -f "$work/spam/test.jsonl" ] || data/make-spam-dataset.sh "$work/spam" >/dev/null
prompt='{text} It is [MASK].'
verbalizer='spam=ad|offer|free,ham=personal|work|news'
summary="$work/few-shot.txt"
: > "$summary"
accuracy() { python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])'; }
zero=$($sharplm evaluate classify --model "$model" --data "$work/spam/test.jsonl" --prompt "$prompt" --verbalizer "$verbalizer" | accuracy)
majority=$(python3 - "$work/spam/test.jsonl" <<'PY'
import json, sys, collections
labels = [json.loads(line)["label"] for line in open(sys.argv[1])]
print(collections.Counter(labels).most_common(1)[0][1] / len(labels))
PY
)
echo "zero-shot prompt $zero majority $majority" | tee -a "$summary"
for k in 16 32; do
  for seed in 1 2 3 4 5; do
    sample="$work/few-shot-k$k-s$seed.jsonl"
    python3 - "$work/spam/train.jsonl" "$k" "$seed" "$sample" <<'PY'
import json, random, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
k, rng = int(sys.argv[2]), random.Random(int(sys.argv[3]))
picked = []
for label in sorted({r["label"] for r in rows}):
    picked += rng.sample([r for r in rows if r["label"] == label], k)
rng.shuffle(picked)
with open(sys.argv[4], "w") as f:
    for r in picked: f.write(json.dumps(r) + "\n")
PY
    for method in head prompt; do
      extra=()
      [ "$method" = prompt ] && extra=(--prompt "$prompt" --verbalizer "$verbalizer")
      out="$work/few-shot-$method-k$k-s$seed"
      $sharplm finetune classify --model "$model" --train "$sample" --output "$out" --overwrite --epochs 15 --batch-size 8 --lr 1e-4 \
        --max-length 128 --seed "$seed" "${extra[@]}" >/dev/null 2>&1
      acc=$($sharplm evaluate classify --model "$out" --data "$work/spam/test.jsonl" | accuracy)
      echo "k $k seed $seed $method $acc" | tee -a "$summary"
    done
  done
done
python3 - "$summary" <<'PY'
import sys, statistics
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "k": runs.setdefault((int(f[1]), f[4]), []).append(float(f[5]))
for (k, method), values in sorted(runs.items()):
    print(f"K={k} {method}: mean {statistics.mean(values):.4f}, sd {statistics.stdev(values):.4f}, min {min(values):.4f}, max {max(values):.4f} (n={len(values)})")
PY
