#!/usr/bin/env bash
# The experiments of docs/adaptation.md, one after another (about three hours on two cores):
#   1. domain-adaptive pretraining: MODEL continued for 10 minutes on the spam emails' text (pretrain --init), then both
#      fine-tuned on spam or ham (1 epoch, seeds 1-3), and both evaluated as masked LMs on DATA (general English) and on
#      the emails' validation split;
#   2. distillation: all-MiniLM-L6-v2 fine-tuned on spam (1 epoch) and on the tones of Tang poems (2 epochs, argmax) as
#      teachers; students: a tiny English model pretrained for 10 minutes on DATA (spam), and a tiny preset with random
#      weights and the teacher's vocabulary (tones, with and without 4,000 unlabelled poems as --transfer), each distilled
#      (T 2, alpha 0.5) and trained on gold labels alone (finetune, or distill --alpha 0), and the time evaluate takes on
#      each test split;
#   3. relation extraction on data/make-relation-set.sh's Brown set: MODEL against the same config randomly initialised.
# Few-shot prompts have their own script, bench/few-shot.sh. Each result goes to $work/adaptation.txt as it comes.
# usage: bench/adaptation.sh MODEL DATA   (MODEL: an English masked LM such as runs/cram-rel-mini-30m/model of
#        docs/pretraining.md; DATA: the prepared English data it was trained on, such as runs/en16-packed;
#        BENCH_WORK=DIR keeps the data and models there)
model="$(realpath "$1")" data="$(realpath "$2")"
set --
. "$(dirname "$0")/prelude.sh"
summary="$work/adaptation.txt"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
[ -f "$work/spam/test.jsonl" ] || data/make-spam-dataset.sh "$work/spam" >/dev/null
[ -f "$work/tone/test.conll" ] || data/make-tone-tagging.sh "$work/tone" >/dev/null
[ -f "$work/relation/test.jsonl" ] || data/make-relation-set.sh "$work/relation" >/dev/null
[ -f "$work/minilm/model.safetensors" ] || $bench minilm "$work/minilm" >/dev/null
spam=(--train "$work/spam/train.jsonl" --dev "$work/spam/dev.jsonl" --max-length 128 --batch-size 16 --overwrite)
tone=(--train "$work/tone/train.conll" --dev "$work/tone/dev.conll" --max-length 128 --batch-size 16 --no-crf --overwrite)

# 1. Domain-adaptive pretraining.
$sharplm pretrain --init "$model" --corpus "$work/spam/train.jsonl" --output "$work/dapt" --max-time 10m --batch-size 32 --eval-every 100 --save-every 1000 >/dev/null
for m in "$model" "$work/dapt/model"; do
  for d in "$data" "$work/dapt/data"; do
    echo "eval $m on $d: $($sharplm eval --model "$m" --data "$d" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("known_mlm_loss", round(r["known_mlm_loss"], 4), "known_mlm_accuracy", round(r["known_mlm_accuracy"], 4))')" | tee -a "$summary"
  done
done
for seed in 1 2 3; do
  for start in base dapt; do
    from=$([ $start = base ] && echo "$model" || echo "$work/dapt/model")
    $sharplm finetune classify --model "$from" "${spam[@]}" --output "$work/dapt-ft-$start-s$seed" --epochs 1 --lr 1e-4 --seed $seed >/dev/null 2>&1
    echo "spam after $start seed $seed: $($sharplm evaluate classify --model "$work/dapt-ft-$start-s$seed" --data "$work/spam/test.jsonl" | field accuracy)" | tee -a "$summary"
  done
done

# 2. Distillation.
$sharplm finetune classify --model "$work/minilm" "${spam[@]}" --output "$work/spam-minilm" --epochs 1 --lr 5e-5 --eval-every 100 >/dev/null 2>&1
$sharplm finetune ner --model "$work/minilm" "${tone[@]}" --output "$work/tone-minilm" --epochs 2 --lr 1e-4 --seed 1 >/dev/null 2>&1
$sharplm pretrain --preset tiny --data "$data" --output "$work/tiny-en" --max-time 10m --batch-size 32 --eval-every 200 --save-every 1000 >/dev/null
for seed in 1 2 3; do
  $sharplm distill classify --teacher "$work/spam-minilm" --student "$work/tiny-en/model" "${spam[@]}" --output "$work/spam-kd-s$seed" --epochs 3 --lr 1e-4 --seed $seed >/dev/null 2>&1
  $sharplm finetune classify --model "$work/tiny-en/model" "${spam[@]}" --output "$work/spam-gold-s$seed" --epochs 3 --lr 1e-4 --seed $seed >/dev/null 2>&1
done
data/make-chinese-corpus.sh "$work/tang-3mb.txt" 3 >/dev/null
python3 - "$work/tang-3mb.txt" "$work/tone" "$work/tang-transfer.txt" <<'PY'
import glob, sys
poems = [p.strip().split('\n') for p in open(sys.argv[1], encoding='utf-8').read().split('\n\n') if p.strip()]
held = set()
for f in glob.glob(sys.argv[2] + '/*.conll'):
    for block in open(f, encoding='utf-8').read().split('\n\n'):
        held.add(''.join(line.split()[0] for line in block.strip().split('\n') if line.strip()))
bodies = [''.join(l.strip() for l in p[1:]) for p in poems]
bodies = [b for b in bodies if 10 <= len(b) <= 120 and b not in held][:4000]
open(sys.argv[3], 'w', encoding='utf-8').write('\n'.join(bodies) + '\n')
PY
$sharplm distill ner --teacher "$work/tone-minilm" --student-preset tiny "${tone[@]}" --output "$work/tone-kd" --epochs 5 --lr 5e-4 --seed 1 >/dev/null 2>&1
$sharplm distill ner --teacher "$work/tone-minilm" --student-preset tiny "${tone[@]}" --output "$work/tone-gold" --epochs 5 --lr 5e-4 --seed 1 --alpha 0 >/dev/null 2>&1
$sharplm distill ner --teacher "$work/tone-minilm" --student-preset tiny "${tone[@]}" --output "$work/tone-kd-transfer" --transfer "$work/tang-transfer.txt" --epochs 5 --lr 5e-4 --seed 1 >/dev/null 2>&1
for m in spam-minilm spam-kd-s1 spam-kd-s2 spam-kd-s3 spam-gold-s1 spam-gold-s2 spam-gold-s3; do
  echo "spam $m: $($sharplm evaluate classify --model "$work/$m" --data "$work/spam/test.jsonl" | field accuracy)" | tee -a "$summary"
done
for m in tone-minilm tone-kd tone-gold tone-kd-transfer; do
  echo "tone $m: $($sharplm evaluate ner --model "$work/$m" --data "$work/tone/test.conll" | field f1)" | tee -a "$summary"
done
# Inference time on the test splits, teacher and student taken in turn, three rounds.
for round in 1 2 3; do
  for m in spam-minilm spam-kd-s1; do
    start=$(date +%s.%N); $sharplm evaluate classify --model "$work/$m" --data "$work/spam/test.jsonl" >/dev/null
    echo "time spam $m round $round: $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s" | tee -a "$summary"
  done
  for m in tone-minilm tone-kd; do
    start=$(date +%s.%N); $sharplm evaluate ner --model "$work/$m" --data "$work/tone/test.conll" >/dev/null
    echo "time tone $m round $round: $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s" | tee -a "$summary"
  done
done

# 3. Relation extraction.
rm -rf "$work/relation-random-init"
$bench random-init "$model" "$work/relation-random-init" >/dev/null
for start in pretrained random-init; do
  from=$([ $start = pretrained ] && echo "$model" || echo "$work/relation-random-init")
  $sharplm finetune relation --model "$from" --train "$work/relation/train.jsonl" --dev "$work/relation/dev.jsonl" --output "$work/relation-$start" \
    --epochs 2 --batch-size 16 --lr 1e-4 --max-length 128 --seed 1 --overwrite >/dev/null 2>&1
  echo "relation $start: $($sharplm evaluate relation --model "$work/relation-$start" --data "$work/relation/test.jsonl")" | tee -a "$summary"
done
