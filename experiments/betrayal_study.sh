#!/usr/bin/env bash
# The betrayal question: will Russia trade its Syria stance for Western concessions on Ukraine,
# when, and under which conditions? Baseline and betrayal_in_syria (seed 2015, 1000 replicates
# each) plus the Latin-hypercube sweep of experiments/betrayal_sweep.toml, in one report; then
# the levers, explanations and a paired what-if as text files (levers.txt, explain.txt,
# whatif.txt).
#
#   bash experiments/betrayal_study.sh [OUT_DIR]      (default results/betrayal)
#
# Same seed, same numbers: rerunning regenerates the report exactly (apart from timestamps).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${1:-results/betrayal}"
SEED=2015
REPLICATES="${REPLICATES:-1000}"  # override only for a smoke test

mkdir -p "$OUT"
for name in baseline betrayal_in_syria; do
    sim run "scenarios/${name}.toml" --seed "$SEED" -n "$REPLICATES" \
        --out "$OUT/$name" --force --no-figures
done
sim sweep experiments/betrayal_sweep.toml --out "$OUT/sweep" --force
sim report "$OUT/baseline" "$OUT/betrayal_in_syria" "$OUT/sweep" --out "$OUT/report.html" \
    --force --title "A Russian betrayal of Iran in Syria? (seed $SEED)"
# Why, what if, what it would take (docs/explain.md).
sim levers "$OUT/sweep" --outcome betrayal --above 0.2 --per point > "$OUT/levers.txt"
sim explain "$OUT/betrayal_in_syria" --actor russia --changes-only > "$OUT/explain.txt"
sim whatif scenarios/baseline.toml --at 2018-05 --event western_offer --seed "$SEED" \
    -n "$REPLICATES" > "$OUT/whatif.txt"
