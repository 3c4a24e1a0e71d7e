#!/usr/bin/env bash
# Install what is missing, build, and run the main job on a built-in default: a synthetic
# 300-bus grid, its AC optimal power flow solved by Ipopt, and the sensitivity of the cost
# to every load by one reverse-mode fold (one sparse solve), largest first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
case_file=build/synthetic-300.m
./build/src/cli/foldopt gen-grid --buses 300 --seed 1 -o "$case_file"
./build/src/cli/foldopt opf "$case_file" --wrt pd --of objective --mode vjp --top 10
