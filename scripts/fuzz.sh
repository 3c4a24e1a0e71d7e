#!/usr/bin/env bash
# Fuzz the MATPOWER reader with libFuzzer (doc/testing.md, "Fuzzing").
# Usage: scripts/fuzz.sh [SECONDS] [libFuzzer options...]   (default 60 seconds)
# Builds fuzz/fuzz_matpower with clang, AddressSanitizer and UndefinedBehaviorSanitizer in
# ./build-fuzz (configured once), then runs it on the committed seeds (fuzz/corpus) and past
# crashes (fuzz/crashes); new interesting inputs go to build-fuzz/corpus, a failing input to
# build-fuzz/crash-* (add it to fuzz/crashes once fixed). Exit status: libFuzzer's (0 when
# nothing was found), 2 when clang is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if ! command -v clang >/dev/null; then
    echo "fuzz: clang is not installed (scripts/deps.sh installs it)" >&2
    exit 2
fi
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false --buildtype=debugoptimized \
        -Db_sanitize=address,undefined -Db_lundef=false \
        "-Dc_args=['-fsanitize=fuzzer-no-link', '-fno-sanitize-recover=all']" >/dev/null
fi
ninja -C build-fuzz fuzz/fuzz_matpower >/dev/null
mkdir -p build-fuzz/corpus
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
exec build-fuzz/fuzz/fuzz_matpower -max_total_time="$seconds" -dict=fuzz/matpower.dict \
    -max_len=16384 -artifact_prefix=build-fuzz/ "$@" build-fuzz/corpus fuzz/corpus fuzz/crashes
