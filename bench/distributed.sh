#!/usr/bin/env bash
# Data-parallel benchmark (docs/distributed.md). On the embedded English corpus prepared as the README's main job
# prepares it (8,000-token vocabulary, 64-token segments), for each preset: STEPS pretraining steps of a global batch of
# 64 (a) in one process with 2 threads accumulating 2 micro-batches of 32, (b) in 2 ranks of 1 thread each with 1
# micro-batch of 32 over Open MPI's shared memory, (c) the same over TCP only (--mca btl self,tcp), which stands in
# for two machines. It prints tokens/s (median of the logged intervals after the first WARM steps) and the share of
# the time spent summing gradients; then times the gradient sum alone against a plain MPI_Allreduce loop on a buffer
# of the same size, at several bucket sizes. The three runs are repeated REPEAT times, in turn, since this machine's
# speed drifts. Nothing else should run on the machine meanwhile.
# usage: bash bench/distributed.sh [PRESET...]   (default: tiny mini; STEPS=60 WARM=10 REPEAT=3 to change the runs)
presets=("${@:-tiny}")
[ $# -eq 0 ] && presets=(tiny mini)
set --
. "$(dirname "$0")/prelude.sh" openmpi-bin libopenmpi-dev
steps=${STEPS:-60}
warm=${WARM:-10}
repeat=${REPEAT:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(mpirun --bind-to none -x TERM=dumb)
[ -f "$work/prep/data/manifest.json" ] || $sharplm pretrain --max-steps 1 --output "$work/prep" --eval-every 0 >/dev/null 2>&1
data="$work/prep/data"

# summary RUN_FOLDER: tokens/s (median of the intervals after the warm-up, the final one left out: it holds the
# evaluation) and the share of that time spent summing gradients.
summary() {
  python3 - "$1/metrics.jsonl" "$warm" <<'PY'
import json, statistics, sys
records = [json.loads(line) for line in open(sys.argv[1])]
warm = int(sys.argv[2])
timed = [r for r in records[:-1] if r["step"] > warm]
rate = statistics.median(r["tokens_per_second"] for r in timed)
first, last = [r for r in records[:-1] if r["step"] >= warm][0], timed[-1]
share = None
if last.get("allreduce_seconds") is not None:
    share = (last["allreduce_seconds"] - first["allreduce_seconds"]) / (last["elapsed_seconds"] - first["elapsed_seconds"])
print(json.dumps({"tokens_per_second": round(rate), "allreduce_share": None if share is None else round(share, 4),
                  "seconds_per_step": round((last["elapsed_seconds"] - first["elapsed_seconds"]) / (last["step"] - first["step"]), 4)}))
PY
}

for preset in "${presets[@]}"; do
  common=(pretrain --data "$data" --preset "$preset" --max-steps "$steps" --log-every 2 --eval-every 0 --save-every 0 --batch-size 32)
  for round in $(seq 1 "$repeat"); do
    rm -rf "$work/$preset-single" "$work/$preset-shm" "$work/$preset-tcp"
    $sharplm "${common[@]}" --output "$work/$preset-single" --threads 2 --grad-accum 2 >/dev/null 2>&1
    echo "$preset round $round, 1 rank x 2 threads, accumulation 2: $(summary "$work/$preset-single")"
    "${mpirun[@]}" -np 2 $sharplm "${common[@]}" --output "$work/$preset-shm" --threads 1 >/dev/null 2>&1
    echo "$preset round $round, 2 ranks x 1 thread, shared memory: $(summary "$work/$preset-shm")"
    "${mpirun[@]}" -np 2 --mca btl self,tcp $sharplm "${common[@]}" --output "$work/$preset-tcp" --threads 1 >/dev/null 2>&1
    echo "$preset round $round, 2 ranks x 1 thread, TCP only: $(summary "$work/$preset-tcp")"
  done
  vocab=$(wc -l < "$data/vocab.txt")
  echo "$preset gradient sum, shared memory: $("${mpirun[@]}" -np 2 $bench allreduce --preset "$preset" --vocab "$vocab")"
  echo "$preset gradient sum, TCP only: $("${mpirun[@]}" -np 2 --mca btl self,tcp $bench allreduce --preset "$preset" --vocab "$vocab")"
done
