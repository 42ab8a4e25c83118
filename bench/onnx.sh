#!/usr/bin/env bash
# ONNX export and int8 (docs/deployment.md, docs/benchmarks.md). For each fine-tuned model folder given
# as KIND=FOLDER=TEST_FILE (KIND classify or ner), exports it in fp32 and int8 and scores the test file
# through TorchSharp, ONNX Runtime fp32 and ONNX Runtime int8 (`sharplm evaluate --engine`). Then times
# TorchSharp eager, ORT fp32 and ORT int8 on one batch of 8 x 128 tokens at 1 and 2 threads, for
# all-MiniLM-L6-v2 and for every classifier given (`SharpLM.Bench onnx`, medians of 7 rounds), and
# prints the cosine of int8's mean-pooled embeddings with fp32's on 64 State of the Union paragraphs.
# Nothing else should run on the machine meanwhile.
# usage: bench/onnx.sh [classify=SPAM_MODEL=spam/test.jsonl] [ner=TONE_MODEL=tone/test.conll] ...
specs=("$@")
set --  # the prelude reads its arguments as Debian packages to install: there are none
. "$(dirname "$0")/prelude.sh"
[ -f "$work/minilm/model.safetensors" ] || $bench minilm "$work/minilm" >/dev/null
for spec in "${specs[@]}"; do
  IFS='=' read -r kind model test <<<"$spec"
  name="$(basename "$model")"
  $sharplm export onnx --model "$model" --output "$work/$name-fp32/model.onnx" >/dev/null
  $sharplm export onnx --model "$model" --output "$work/$name-int8/model.onnx" --quantize int8 >/dev/null
  for engine in "torch $model" "onnx $work/$name-fp32" "onnx $work/$name-int8"; do
    set -- $engine
    echo "$name $kind $1 $(basename "$2"): $($sharplm evaluate "$kind" --model "$2" --engine "$1" --data "$test")"
  done
done
$bench onnx "$work/minilm" data/corpus/sotu-1961-2018.txt --threads 1,2 --rounds 7 --work "$work/speed-minilm"
for spec in "${specs[@]}"; do
  IFS='=' read -r kind model test <<<"$spec"
  if [ "$kind" = classify ]; then
    $bench onnx "$model" data/corpus/sotu-1961-2018.txt --threads 1,2 --rounds 7 --work "$work/speed-$(basename "$model")"
  fi
done
