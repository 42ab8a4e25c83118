#!/usr/bin/env bash
# Time to quality on English (docs/benchmarks.md, issue 12): three contenders, mini, each for the same
# wall-clock budget (MINUTES, default 30), one after the other, on the same data: the English corpus of
# data/make-english-corpus.sh (made in the work folder if missing; needs npm and node) with a 16,000-token
# vocabulary, packed into 128-token segments without NSP (`data prepare --no-nsp --seed 1`).
#   cramming    `sharplm pretrain --preset mini`: the default recipe (relative positions, bf16 where the CPU has it)
#   bert        `sharplm pretrain --recipe bert --preset mini`: SharpLM's default before the Cramming recipe
#   pytorch-hf  Hugging Face's BertForPreTraining recipe in plain PyTorch 1.13 (bench/pytorch_pretraining_run.py)
#               on the bert run's config with the projection on every position: peak 5e-4 after 100 warmup
#               steps, then linear decay by elapsed time, masked LM alone on these segments
# Every contender evaluates the whole validation split (1,066 examples) about every 1.5-2 minutes, inside its
# budget. Writes each metrics.jsonl, one plot of validation loss against minutes, and the minute at which
# each curve first goes under the bert recipe's final loss.
# Needs: the .NET 10 SDK, Debian's python3-torch and libopenblas0-pthread (installed if missing, as root).
# RECIPES="cramming" runs the default again alone and keeps the bert and PyTorch runs already in the work
# folder (their code did not change); the plot and the crossings then use all three. RECIPES= only plots.
# usage: [BENCH_WORK=DIR] [MINUTES=N] [RECIPES="bert cramming"] bash bench/time-to-quality-english.sh
minutes="${MINUTES:-30}"
recipes="${RECIPES-bert cramming}"
. "$(dirname "$0")/prelude.sh" python3-torch libopenblas0-pthread

[ -f "$work/english/cloze.tsv" ] || bash data/make-english-corpus.sh "$work/english"
[ -f "$work/vocab16k.txt" ] || $sharplm vocab train --input "$work/english/corpus" --vocab-size 16000 --output "$work/vocab16k.txt"
[ -f "$work/data/manifest.json" ] || $sharplm data prepare --corpus "$work/english/corpus" --vocab "$work/vocab16k.txt" \
  --output "$work/data" --no-nsp --seed 1
for recipe in $recipes; do
  rm -rf "${work:?}/$recipe"
  $sharplm pretrain --recipe "$recipe" --data "$work/data" --preset mini --max-time "${minutes}m" --eval-every 100 --save-every 0 \
    --seed 1 --output "$work/$recipe" > "$work/$recipe.out"
  [ "$recipe" = bert ] || continue
  # PyTorch right after the bert run whose config it takes, so that the machine's state is alike.
  hf_config "$work/bert/model/config.json" "$work/hf-config.json"
  mkdir -p "$work/pytorch-hf"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch_pretraining_run.py "$work/data" "$work/hf-config.json" \
    "$work/pytorch-hf/metrics.jsonl" $((minutes * 60)) 25 5e-4 100 32 "$(nproc)" 1 > "$work/pytorch.out"
done
$sharplm plot --run "$work/cramming" --run "$work/bert" --run "$work/pytorch-hf" --x minutes --validation-only --output "$work/time-to-quality-english.png"
python3 - "$work" "$minutes" <<'PY'
import json, sys
work, budget = sys.argv[1], float(sys.argv[2])
def curve(run):
    points = []
    for line in open(f"{work}/{run}/metrics.jsonl"):
        r = json.loads(line)
        if r.get("validation"):
            points.append((r["elapsed_seconds"] / 60, r["step"], r["validation"]["masked_lm_loss"], r["validation"].get("masked_lm_accuracy")))
    return points
curves = {run: curve(run) for run in ("cramming", "bert", "pytorch-hf")}
target = curves["bert"][-1][2]
for run, points in curves.items():
    minutes, step, loss, accuracy = points[-1]
    at = next((i for i, p in enumerate(points) if p[2] <= target), None)
    crossing = f"never under {target:.3f}"
    if at is not None:
        below = points[at]
        crossing = f"first at or under {target:.3f} at {below[0]:.2f} min (step {below[1]})"
        if at > 0:  # where the straight line between the two evaluations around it crosses
            above = points[at - 1]
            minute = above[0] + (above[2] - target) / (above[2] - below[2]) * (below[0] - above[0])
            crossing += f", interpolated {minute:.2f} min ({minute / budget:.1%} of the budget)"
    print(f"{run}: {step} steps, final validation loss {loss:.3f}, accuracy {accuracy:.1%}; {crossing}")
PY
echo "plot: $work/time-to-quality-english.png"
