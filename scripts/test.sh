#!/usr/bin/env bash
# Install what is missing, build, run the default test suite, print 'N passed, M failed'.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh || exit 1
meson test -C build --suite unit --print-errorlogs --num-processes "$(nproc)" "$@" >build/test-output.txt 2>&1
rc=$?
tail -n 12 build/test-output.txt
python3 scripts/test-summary.py build
summary_rc=$?
[ $rc -eq 0 ] && [ $summary_rc -eq 0 ]
