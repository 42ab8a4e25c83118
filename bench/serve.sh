#!/usr/bin/env bash
# Load test of `sharplm serve` (docs/serving.md): starts the server on all-MiniLM-L6-v2 on a free loopback port,
# warms it up with 2,000 requests from 32 clients, then for 1, 8, 32 and again 32 concurrent clients posts one State
# of the Union sentence of at most 64 tokens per request to /embed (at most 640 requests or 60 s per level), and prints
# requests/s, p50/p99 latency, failures, the server's resident memory and the texts per model call; finally stops the
# server with SIGTERM. LOAD_OPTIONS passes options to `SharpLM.Bench serve-load` (for example "--clients 1,32"). Extra arguments go to `sharplm serve` (for example
# --engine onnx --model DIR, or --max-batch-tokens N). Nothing else should run on the machine meanwhile.
# usage: bash bench/serve.sh [SERVE_OPTION...]
serve_options=("$@")
set --
. "$(dirname "$0")/prelude.sh"
[ -f "$work/minilm/model.safetensors" ] || $bench minilm "$work/minilm" >/dev/null
model="$work/minilm"
[ ${#serve_options[@]} -gt 0 ] && printf '%s\n' "${serve_options[@]}" | grep -qx -- --model && model=""
$sharplm serve ${model:+--model "$model"} --port 0 "${serve_options[@]}" 2>"$work/serve.log" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 120); do grep -q '^listening on' "$work/serve.log" && break; sleep 0.5; done
address=$(sed -n 's/^listening on \([^ ]*\).*/\1/p' "$work/serve.log")
[ -n "$address" ] || { cat "$work/serve.log"; exit 1; }
grep '^serving' "$work/serve.log"
$bench serve-load "$address" data/corpus/sotu-1961-2018.txt "${model:-$work/minilm}/vocab.txt" --pid "$server" ${LOAD_OPTIONS:-}
