#!/usr/bin/env bash
# Time to quality (docs/benchmarks.md): SharpLM's default pretraining recipe and Hugging Face's recipe in
# plain PyTorch 1.13, each for the same wall-clock budget (MINUTES, default 30) on the same machine,
# data (the embedded default corpus, prepared once by `sharplm data prepare`) and vocabulary
# (bert-base-uncased), mini size, batch 32, peak learning rate 5e-4, 20 warmup steps, then linear decay
# by elapsed time. One after the other, never together. Writes both metrics.jsonl files and one plot of
# validation masked-LM loss against minutes.
# Needs: the .NET 10 SDK, Debian's python3-torch and libopenblas0-pthread (installed if missing, as root).
minutes="${MINUTES:-30}"
. "$(dirname "$0")/prelude.sh" python3-torch libopenblas0-pthread

vocab=$($bench bert-vocab "$work")
[ -f "$work/data/manifest.json" ] || $sharplm data prepare --corpus data/corpus --vocab "$vocab" --output "$work/data" --max-seq-length 128 --seed 1
$sharplm pretrain --data "$work/data" --preset mini --output "$work/sharplm" --max-time "${minutes}m" --batch-size 32 --lr 5e-4 \
  --warmup-steps 20 --eval-every 50 --save-every 0 --seed 1 > "$work/sharplm.out"
hf_config "$work/sharplm/model/config.json" "$work/hf-config.json"
mkdir -p "$work/pytorch-hf"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch_pretraining_run.py "$work/data" "$work/hf-config.json" \
  "$work/pytorch-hf/metrics.jsonl" $((minutes * 60)) 12 5e-4 20 32 "$(nproc)" 1 > "$work/pytorch.out"
$sharplm plot --run "$work/sharplm" --run "$work/pytorch-hf" --x minutes --validation-only --output "$work/time-to-quality.png"
echo "final validation MLM loss: SharpLM $(tail -1 "$work/sharplm/metrics.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["validation"]["masked_lm_loss"])')," \
  "PyTorch HF recipe $(tail -1 "$work/pytorch-hf/metrics.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["validation"]["masked_lm_loss"])')"
echo "plot: $work/time-to-quality.png"
