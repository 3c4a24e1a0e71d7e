#!/usr/bin/env bash
# Install what is missing, build, and run the main job on a built-in default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
./build/src/cli/foldopt demo
