#!/usr/bin/env bash
# Alignment-drift sensitivity: which interests, memories and shocks drive Iran-Russia alignment?
# The Sobol sweep of experiments/alignment_drift_sobol.toml (its own fixed seed) and its report.
#
#   bash experiments/drift_study.sh [OUT_DIR]      (default results/drift)
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${1:-results/drift}"

mkdir -p "$OUT"
sim sweep experiments/alignment_drift_sobol.toml --out "$OUT/sweep" --force
sim report "$OUT/sweep" --out "$OUT/report.html" --force \
    --title "What drives Iran-Russia alignment?"
