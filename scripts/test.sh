#!/usr/bin/env bash
# Install what is missing, build, and run (doc/testing.md):
#  1. the default test suite in ./build;
#  2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer in ./build-asan
#     (any report fails its test: halt_on_error, -fno-sanitize-recover, leaks checked);
#  3. when clang is installed, a short libFuzzer run of the MATPOWER reader
#     (scripts/fuzz.sh, FOLDOPT_FUZZ_SECONDS seconds, default 45);
#  4. the formatting check of every C file against .clang-format (scripts/format-check.sh);
# then print one line 'N passed, M failed' over all of them. Arguments go to the first
# `meson test`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh || exit 1
meson test -C build --suite unit --print-errorlogs --num-processes "$(nproc)" "$@" \
    >build/test-output.txt 2>&1
rc=$?
tail -n 12 build/test-output.txt

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
[ -f build-asan/build.ninja ] ||
    meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined \
        -Db_lundef=false -Dc_args=-fno-sanitize-recover=all >/dev/null || exit 1
ninja -C build-asan >/dev/null || exit 1
# Instrumented code runs several times slower (and its allocator faults pages in): the time
# limits that catch hangs are tripled for Check's test cases and doubled for meson's tests
# (tests/learning's test_nlp_layers takes 56 s alone under the sanitizers on a slow 2-core
# machine, and its portfolio case passed Check's 60 s limit with another test beside it).
CK_TIMEOUT_MULTIPLIER=3 meson test -C build-asan --suite unit --print-errorlogs \
    --num-processes "$(nproc)" --timeout-multiplier 2 >build-asan/test-output.txt 2>&1
asan_rc=$?
echo "sanitizers (build-asan): $(grep -E '^(Ok|Fail|Timeout):' build-asan/test-output.txt |
    tr -s ' ' | paste -sd ' ')"

fuzz_tap=build/fuzz.tap
if command -v clang >/dev/null; then
    seconds=${FOLDOPT_FUZZ_SECONDS:-45}
    bash scripts/fuzz.sh "$seconds" >build/fuzz-output.txt 2>&1
    fuzz_rc=$?
    runs=$(grep -oE '^Done [0-9]+ runs' build/fuzz-output.txt | grep -oE '[0-9]+' || echo 0)
    if [ $fuzz_rc -eq 0 ]; then
        printf '1..1\nok 1 - fuzz_matpower: %s inputs in %s s, no failure\n' "$runs" "$seconds" \
            >"$fuzz_tap"
    else
        printf '1..1\nnot ok 1 - fuzz_matpower: failed (build/fuzz-output.txt; the input is in build-fuzz/)\n' \
            >"$fuzz_tap"
    fi
    echo "fuzz: $(tail -n 1 "$fuzz_tap")"
else
    printf '1..0 # SKIP clang not installed\n' >"$fuzz_tap"
    fuzz_rc=0
fi
format_tap=build/format.tap
bash scripts/format-check.sh "$format_tap" 2>build/format-output.txt
format_rc=$?
echo "format: $(tail -n 1 "$format_tap")"
python3 scripts/test-summary.py build build-asan "$fuzz_tap" "$format_tap"
summary_rc=$?
[ $rc -eq 0 ] && [ $asan_rc -eq 0 ] && [ $fuzz_rc -eq 0 ] && [ $format_rc -eq 0 ] &&
    [ $summary_rc -eq 0 ]
