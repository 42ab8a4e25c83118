#!/usr/bin/env bash
# Pretraining speed (docs/benchmarks.md):
# 1. SharpLM's pretraining step against PyTorch 1.13 eager on the same model (mini), weights and batch
#    (32 x 128 from the embedded corpus, bert-base-uncased vocabulary), alternating over 3 rounds, each
#    contender in its own process: tokens/s, peak RSS and ratios.
# 2. Cost by model size and sequence length: `sharplm pretrain --dry-run` (real steps on real batches of
#    the default recipe) for tiny, mini and small, on data prepared with max lengths 128 and 512.
# Needs: the .NET 10 SDK, Debian's python3-torch and libopenblas0-pthread (installed if missing, as root).
. "$(dirname "$0")/prelude.sh" python3-torch libopenblas0-pthread

echo "## Pretraining step: SharpLM vs PyTorch 1.13 eager"
$bench pretrain-vs-pytorch --preset mini --batch-size 32 --seq 128 --rounds 3 --steps 8 --warmup 2 --work "$work/step"

echo
echo "## Cost by size and sequence length (pretrain --dry-run, default recipe, batch 32, $(nproc) threads)"
vocab=$($bench bert-vocab "$work")
echo "| preset | max length | parameters | mean tokens/example | s/step | tokens/s | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
for seq in 128 512; do
  [ -f "$work/data-$seq/manifest.json" ] || $sharplm data prepare --corpus data/corpus --vocab "$vocab" --output "$work/data-$seq" \
    --max-seq-length "$seq" --max-predictions $(( (seq * 15 + 99) / 100 )) --dupe-factor 1 --seed 1 2>/dev/null
  for preset in tiny mini small; do
    $sharplm pretrain --data "$work/data-$seq" --preset "$preset" --batch-size 32 --output "$work/dry" --dry-run 2>/dev/null |
      python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"| $preset | $seq | {r['parameters']:,} | {r['tokens_per_step']/32:.0f} | {r['seconds_per_step']:.2f} | {r['tokens_per_second']:.0f} | {r['peak_rss_megabytes']:.0f} |\")"
  done
done
