#!/usr/bin/env bash
# Transfer check (docs/pretraining.md): does pretraining help on real tasks? A pretrained model folder
# (MODEL, for example the model/ of a `sharplm pretrain` run on data/make-english-corpus.sh's corpus) and
# a folder with the same config and vocabulary but Hugging Face's random initialisation are fine-tuned
# with the same recipe and seed on
#   - part-of-speech tagging of held-out Brown texts (data/make-english-corpus.sh: pos/*.conll; 4,000
#     training sentences, tags by argmax, no CRF, 3 epochs), metric: word accuracy on pos/test.conll;
#   - spam or ham (data/make-spam-dataset.sh; 4,884 training emails, first 128 tokens, 1 epoch),
#     metric: accuracy on test.jsonl;
# and the script prints each test accuracy and the share of random initialisation's errors that
# pretraining removes. One fine-tuning at a time, never together.
# usage: bench/transfer.sh MODEL_FOLDER   (BENCH_WORK=DIR keeps the data and fine-tuned models there)
model="$(realpath "$1")"
set --  # the prelude reads its arguments as Debian packages to install: there are none
. "$(dirname "$0")/prelude.sh"
[ -f "$work/english/pos/test.conll" ] || data/make-english-corpus.sh "$work/english" >/dev/null
[ -f "$work/spam/test.jsonl" ] || data/make-spam-dataset.sh "$work/spam" >/dev/null
rm -rf "$work/random-init"
$bench random-init "$model" "$work/random-init"
summary="$work/transfer.txt"
: > "$summary"
for start in pretrained random-init; do
  from=$([ "$start" = pretrained ] && echo "$model" || echo "$work/random-init")
  $sharplm finetune ner --model "$from" --train "$work/english/pos/train.conll" --dev "$work/english/pos/dev.conll" \
    --output "$work/pos-$start" --no-crf --epochs 3 --batch-size 16 --lr 1e-4 --max-length 128 --seed 1 --overwrite >/dev/null
  pos=$($sharplm evaluate ner --model "$work/pos-$start" --data "$work/english/pos/test.conll" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token_accuracy"])')
  $sharplm finetune classify --model "$from" --train "$work/spam/train.jsonl" --dev "$work/spam/dev.jsonl" \
    --output "$work/spam-$start" --epochs 1 --batch-size 16 --lr 1e-4 --max-length 128 --seed 1 --overwrite >/dev/null
  spam=$($sharplm evaluate classify --model "$work/spam-$start" --data "$work/spam/test.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
  echo "$start pos $pos spam $spam" | tee -a "$summary"
done
python3 - "$summary" <<'PY'
import sys
rows = {line.split()[0]: line.split()[1:] for line in open(sys.argv[1])}
p, r = rows["pretrained"], rows["random-init"]
for i in range(0, len(p), 2):
    task, a, b = p[i], float(p[i + 1]), float(r[i + 1])
    print(f"{task}: pretrained {a:.4f}, random init {b:.4f}, errors removed {(a - b) / (1 - b):.1%}")
PY
