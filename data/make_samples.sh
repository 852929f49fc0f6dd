#!/usr/bin/env bash
# Rebuild the sample datasets in data/ (see data/README.md). Same command, same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SIZES=(--n-train 200 --n-val 50 --n-test 50 --n-heldout 50 --seed 0)
for n in 3 4; do
  for fmt in sos metacot solution; do
    "$PY" -m metacot_lab.data build --env countdown --size "$n" --algorithm dfs --format "$fmt" \
      "${SIZES[@]}" --out "data/countdown${n}_dfs_${fmt}"
  done
done
for n in 5 10; do
  for fmt in searchformer metacot solution; do
    "$PY" -m metacot_lab.data build --env maze --size "$n" --algorithm astar --format "$fmt" \
      "${SIZES[@]}" --out "data/maze${n}_astar_${fmt}"
  done
done
