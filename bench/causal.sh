#!/usr/bin/env bash
# Causal language models (docs/causal-lm.md), one measurement after the other on a quiet machine:
#   1. a byte-level BPE of 8,192 tokens on the English corpus of data/make-english-corpus.sh (Brown, State of the
#      Union 1790-1960), then a mini Llama (4x256) pretrained on it for 30 minutes (--max-time 30m, block 128,
#      batch 32, the causal defaults), its validation curve and samples from generate;
#   2. the interpolated modified Kneser-Ney 3-gram of bench/kneser_ney.py on the same training tokens, scored on
#      the same validation tokens;
#   3. the causal step against the same Llama in PyTorch 1.13 (SharpLM.Bench causal-vs-pytorch), 3 rounds;
#   4. the model exported to GGUF f32, f16 and q8_0 and run by llama.cpp (SharpLM.Bench gguf).
# usage: bash bench/causal.sh   (BENCH_WORK=DIR keeps the corpus and the run there; about 45 minutes)
. "$(dirname "$0")/prelude.sh" python3-torch python3-numpy
[ -d "$work/english/corpus" ] || data/make-english-corpus.sh "$work/english" >/dev/null
$sharplm vocab train --type bpe --input "$work/english/corpus" --vocab-size 8192 --output "$work/tokenizer/tokenizer.json"
rm -rf "$work/mini-30m"
$sharplm pretrain --objective causal --corpus "$work/english/corpus" --tokenizer "$work/tokenizer/tokenizer.json" --preset mini \
  --block-size 128 --batch-size 32 --max-time 30m --eval-every 250 --save-every 1000 --output "$work/mini-30m"
$sharplm plot --run "$work/mini-30m" --output "$work/mini-30m/loss-minutes.png" --x minutes
for prompt in "The state of the Union" "We must" "In the year 1850, the" "The President said that"; do
  $sharplm generate --model "$work/mini-30m/model" --max-new-tokens 60 --seed 1 "$prompt"
done
$sharplm generate --model "$work/mini-30m/model" --max-new-tokens 40 --temperature 0 "The state of the Union"
python3 bench/kneser_ney.py "$work/mini-30m/data" 128
$bench causal-vs-pytorch --preset mini --batch-size 16 --seq 256 --rounds 3 --steps 6 --warmup 2 --work "$work/step"
$bench gguf "$work/mini-30m/model" "$work/mini-30m/data" --windows 40 --work "$work/gguf"
