#!/usr/bin/env bash
# Configure (once) and build foldopt into ./build (release-like: -O2 -g).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
