#!/usr/bin/env bash
# Every analysis of docs/analyses.md on the two bundled tasks (spam, sotu) with the bundled pretrained model
# (models/entk-mini), sized to finish within 10 minutes on an idle 2-core machine:
#   1. 16-shot splits (seed 13) of datasets/original       (entk data split)
#   2. Adam fine-tuning of each task, τ_t = θ_t − θ₀        (entk finetune, entk task-vector)
#   3. task addition and negation, nonlinear and linearized (entk arithmetic --both)
#   4. weight disentanglement error ξ on a grid             (entk disentangle)
#   5. eNTK eigenfunction localization over both tasks      (entk localization)
#   6. classic kernels (linear, poly, rbf) on the frozen <mask> feature next to the SGD eNTK and the linear probe
#                                                           (entk sweep scripts/analyses-kernels.json, entk report)
#   7. the analyses report                                  (entk analyze report)
#
#   bash scripts/analyses-example.sh [OUT_DIR] [REPORT_DIR]      # defaults: runs/analyses-example, reports
#
# Writes REPORT_DIR/analyses.md (+ analyses.files/ SVGs) and REPORT_DIR/analyses-kernels.md (+ SVG, manifest).
# Finished steps are skipped on a rerun (delete OUT_DIR to start over). Nothing below depends on entk-mini's
# numbers: new weights in models/entk-mini (any shape) just give a new report. Each step prints its wall and CPU
# seconds; the last line is one JSON object with the run's totals (CPU: every entk process, all threads).
set -euo pipefail

OUT=${1:-runs/analyses-example}
REPORTS=${2:-reports}
MODEL=models/entk-mini # also the model of scripts/analyses-kernels.json
ENTK=(node "$(dirname "$0")/../bin/entk.js")
TASKS=(spam sotu)
SEED=13
K=16
# Bounds of the evaluation cost (the knobs that size the run).
LIMIT_EVAL=64   # dev and test examples per task in arithmetic and disentanglement
GRID=7          # ξ grid points per axis over [−3, 3]
LOC_N=16        # training examples per task in the localization eNTK
LOC_HELDOUT=32  # held-out examples per task for the Nyström extension
FT_STEPS=60     # Adam steps per task

mkdir -p "$OUT" "$REPORTS"
# CPU=children's user + system CPU seconds so far: bash's `times` (second line "XmY.YYYs XmY.YYYs"), run in this
# shell (in a pipeline or $(…) it would report a subshell's).
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT
cpu() {
  times >"$times_file"
  CPU=$(sed -n 2p "$times_file" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } print s }')
}
now() { date +%s.%N; }
start=$(now)
last_t=$start
last_c=0
last_name=""
# Prints the previous step's wall and CPU seconds, then the next step's title.
step() {
  local t c
  t=$(now)
  cpu
  c=$CPU
  [ -z "$last_name" ] || printf '   (%s: wall %.1f s, cpu %.1f s)\n' "$last_name" "$(echo "$t - $last_t" | bc)" \
    "$(echo "$c - $last_c" | bc)" >&2
  last_t=$t
  last_c=$c
  last_name=$1
  [ -z "$1" ] || printf '\n== %s\n' "$1" >&2
}

step "splits: ${TASKS[*]}, k=$K, seed $SEED"
"${ENTK[@]}" data split --data-dir datasets/original --k "$K" --seeds "$SEED" --mode k-shot \
  --tasks "$(IFS=,; echo "${TASKS[*]}")" --out "$OUT/data"
split() { echo "$OUT/data/k-shot/$1/$K-$SEED"; }

vectors=()
for t in "${TASKS[@]}"; do
  step "fine-tune $t and take its task vector"
  # A finished run is skipped (result.json), an interrupted one resumes from its snapshot.
  "${ENTK[@]}" finetune --task "$t" --split-dir "$(split "$t")" --model "$MODEL" --out "$OUT/ft/$t" \
    --optimizer adam --lr 1e-4 --steps "$FT_STEPS" --eval-every 20 --batch-size 8 --seed "$SEED" \
    --limit-test "$LIMIT_EVAL" --quiet
  "${ENTK[@]}" task-vector create --base "$MODEL" --finetuned "$OUT/ft/$t/best" --out "$OUT/tv/$t.safetensors"
  vectors+=("$OUT/tv/$t.safetensors")
done

common=(--base "$MODEL" --tasks "$(IFS=,; echo "${TASKS[*]}")" --vectors "$(IFS=,; echo "${vectors[*]}")"
  --split-dirs "$(split "${TASKS[0]}"),$(split "${TASKS[1]}")" --limit-eval "$LIMIT_EVAL" --quiet)

step "task arithmetic (nonlinear and linearized)"
[ -f "$OUT/arithmetic/arithmetic.json" ] || "${ENTK[@]}" arithmetic "${common[@]}" --both --out "$OUT/arithmetic"

step "weight disentanglement, ${GRID}×${GRID} grid"
[ -f "$OUT/disentangle/disentangle.json" ] ||
  "${ENTK[@]}" disentangle "${common[@]}" --grid "$GRID" --out "$OUT/disentangle"

step "eigenfunction localization"
[ -f "$OUT/localization/localization.json" ] ||
  "${ENTK[@]}" localization --model "$MODEL" --tasks "$(IFS=,; echo "${TASKS[*]}")" \
    --split-dirs "$(split "${TASKS[0]}"),$(split "${TASKS[1]}")" --n "$LOC_N" --heldout "$LOC_HELDOUT" \
    --top-k 16 --out "$OUT/localization"

step "classic kernels vs the eNTK (sweep scripts/analyses-kernels.json)"
"${ENTK[@]}" sweep scripts/analyses-kernels.json --out "$OUT/kernels" --quiet
"${ENTK[@]}" report "$OUT/kernels" --out "$REPORTS/analyses-kernels.md" --title "Classic kernels vs the eNTK"

step "analyses report"
"${ENTK[@]}" analyze report "$OUT/arithmetic" "$OUT/disentangle" "$OUT/localization" --out "$REPORTS/analyses.md"
step ""

cpu
printf '{"script":"analyses-example","wall_s":%.1f,"cpu_s":%.1f,"load":"%s"}\n' \
  "$(echo "$(now) - $start" | bc)" "$CPU" "$(cut -d' ' -f1-3 /proc/loadavg)"
