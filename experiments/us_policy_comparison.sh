#!/usr/bin/env bash
# Compare US policy choices against the baseline: escalating isolation of Iran, a US-Iran thaw,
# and a grand bargain with Russia over Ukraine. Each scenario is run with the same seed (2015)
# and 1000 replicates; one HTML report shows them side by side.
#
#   bash experiments/us_policy_comparison.sh [OUT_DIR]      (default results/us_policy)
#
# Same seed, same numbers: rerunning regenerates the report exactly (apart from timestamps).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${1:-results/us_policy}"
SEED=2015
REPLICATES="${REPLICATES:-1000}"  # override only for a smoke test
SCENARIOS=(baseline escalating_isolation us_iran_thaw ukraine_grand_bargain)

mkdir -p "$OUT"
dirs=()
for name in "${SCENARIOS[@]}"; do
    sim run "scenarios/${name}.toml" --seed "$SEED" -n "$REPLICATES" \
        --out "$OUT/$name" --force --no-figures
    dirs+=("$OUT/$name")
done
sim report "${dirs[@]}" --out "$OUT/report.html" --force \
    --title "US policy choices and the Iran-Russia partnership (seed $SEED, $REPLICATES runs each)"
