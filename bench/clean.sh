#!/usr/bin/env bash
# Corpus cleaning (docs/data.md): `sharplm data clean` throughput and memory, near-duplicate detection
# against ground truth, and what each quality rule removes from real corpora.
#   1. Real text: the English corpus of data/make-english-corpus.sh (SOTU 1790-1960, Brown), the embedded
#      SOTU 1961-2018, the spam-assassin emails of data/make-spam-dataset.sh, and GCIDE (Debian's
#      dict-gcide, the 1913 Webster: 40 MB of dictionary entries, the low-quality part).
#   2. `SharpLM.Bench clean-corpus` cuts them into pages and injects near copies (five kinds of edit, at
#      Jaccard similarities from 0.5 to 1) and exact copies: mixed.jsonl (100 MB, with GCIDE), prose.jsonl
#      (100 MB, without: most pages pass the rules, the costly case), and 50 and 200 MB versions of mixed.
#   3. `sharplm data clean` on each at 1 and 2 threads: MB/s, peak resident memory, the index's size.
#   4. `SharpLM.Bench near-dup`: 3,000 pages copied with edits to known similarities, recall and precision,
#      and brute force over the last 3,000 pages (the emails, which hold real near duplicates).
#   5. The share of the real corpora each rule removes (report.json).
# Nothing else should run on the machine meanwhile.   usage: bench/clean.sh   (BENCH_WORK=DIR keeps the data)
. "$(dirname "$0")/prelude.sh" dict-gcide time zstd
[ -f "$work/english/corpus/brown.txt" ] || data/make-english-corpus.sh "$work/english" >/dev/null
[ -f "$work/spam/test.jsonl" ] || data/make-spam-dataset.sh "$work/spam" >/dev/null
if [ ! -f "$work/gcide/gcide.txt" ]; then
  mkdir -p "$work/gcide"
  # GCIDE is mostly UTF-8 with a few Windows-1252 bytes: decode each line as UTF-8, else as Windows-1252.
  python3 - /usr/share/dictd/gcide.dict.dz "$work/gcide/gcide.txt" <<'PY'
import gzip, sys
with gzip.open(sys.argv[1]) as source, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in source:
        try: out.write(line.decode("utf-8"))
        except UnicodeDecodeError: out.write(line.decode("cp1252", errors="replace"))
PY
fi
real=("$work/english/corpus" data/corpus/sotu-1961-2018.txt "$work/spam")
for spec in mixed:100 mixed-50:50 mixed-200:200 prose:100; do
  name="${spec%%:*}" mb="${spec##*:}"
  [ -f "$work/$name.jsonl" ] && continue
  if [ "${name%%-*}" = prose ]; then $bench clean-corpus "$work/$name.jsonl" --min-mb "$mb" "${real[@]}"
  else $bench clean-corpus "$work/$name.jsonl" --min-mb "$mb" "${real[@]}" "$work/gcide/gcide.txt"; fi
done
[ -f "$work/mixed.jsonl.zst" ] || zstd -q -3 "$work/mixed.jsonl" -o "$work/mixed.jsonl.zst"

run() {  # run NAME THREADS INPUT [OPTIONS...]: one clean, then its figures from report.json
  local name="$1" threads="$2" input="$3"; shift 3
  rm -rf "$work/out-$name-$threads"
  /usr/bin/time -f "%M" -o "$work/rss" $sharplm data clean --input "$input" --output "$work/out-$name-$threads" --threads "$threads" "$@" >/dev/null
  python3 - "$work/out-$name-$threads/report.json" "$(cat "$work/rss")" "$name" "$threads" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
index = r.get("near_duplicate_index") or {}
print(f"| {sys.argv[3]} | {sys.argv[4]} | {r['bytes_in'] / 1e6:.0f} MB, {r['documents_in']:,} docs | {r['documents_out']:,} kept | "
      f"{r['seconds']:.1f} s | {r['megabytes_per_second']:.1f} MB/s | {int(sys.argv[2]) / 1024:.0f} MiB | {index.get('index_megabytes', 0)} MiB |")
PY
}
echo "| corpus | threads | in | out | time | throughput | peak RSS | LSH index |"
echo "|---|---|---|---|---|---|---|---|"
for threads in 1 2; do
  run mixed "$threads" "$work/mixed.jsonl"
  run prose "$threads" "$work/prose.jsonl"
  run mixed-dedup-only "$threads" "$work/mixed.jsonl" --filters none
  run mixed-zst "$threads" "$work/mixed.jsonl.zst"
done
run mixed-50 2 "$work/mixed-50.jsonl"
run mixed-200 2 "$work/mixed-200.jsonl"

$bench near-dup --originals 3000 --sample 3000 "${real[@]}"

echo
echo "What each rule removes from real corpora (documents, and share of documents in; --dedup none):"
for spec in "english=$work/english/corpus=en" "spam=$work/spam=en" "tang=data/corpus/tang-poems.txt=zh" "gcide=$work/gcide/gcide.txt=en"; do
  IFS='=' read -r name input lang <<<"$spec"
  rm -rf "$work/rules-$name"
  $sharplm data clean --input "$input" --output "$work/rules-$name" --dedup none --lang "$lang" >/dev/null
  python3 - "$work/rules-$name/report.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = r["documents_in"]
removed = ", ".join(f"{k} {v['documents']:,} ({v['documents'] / n:.1%})" for k, v in sorted(r["removed"].items(), key=lambda kv: -kv[1]["documents"]))
lines = ", ".join(f"{k} {v:,}" for k, v in r["lines_removed"].items())
print(f"- {sys.argv[2]}: {n:,} documents, {r['documents_out']:,} kept ({r['documents_out'] / n:.1%}); removed: {removed}; lines cut: {lines or 'none'}")
PY
done
