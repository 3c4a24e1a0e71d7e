#!/usr/bin/env bash
# Check that every C source and header under version control is formatted by the
# repository's .clang-format (doc/testing.md "Formatting"). Writes one TAP line to the file
# given as $1 (default build/format.tap) and lists the files to reformat on stderr.
# To reformat: git ls-files '*.c' '*.h' | xargs clang-format -i
set -uo pipefail
cd "$(dirname "$0")/.."
tap=${1:-build/format.tap}
if ! command -v clang-format >/dev/null; then
    printf '1..0 # SKIP clang-format not installed\n' >"$tap"
    exit 0
fi
bad=()
while IFS= read -r f; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.c' '*.h')
if [ ${#bad[@]} -eq 0 ]; then
    printf '1..1\nok 1 - clang-format: every C file follows .clang-format\n' >"$tap"
    exit 0
fi
printf '%s\n' "${bad[@]}" >&2
printf '1..1\nnot ok 1 - clang-format: not formatted by .clang-format (%d): %s\n' \
    "${#bad[@]}" "${bad[*]}" >"$tap"
exit 1
