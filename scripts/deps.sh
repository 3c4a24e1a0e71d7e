#!/usr/bin/env bash
# Install what foldopt needs from Debian 12's packages, only if something is missing.
set -euo pipefail
# clang and its sanitizer/libFuzzer runtime: the fuzz run of scripts/test.sh (scripts/fuzz.sh);
# clang-format: the formatting check of scripts/test.sh (scripts/format-check.sh);
# python3-dev, -numpy, -scipy, -torch, -pytest: the Python package (python/) and its tests;
# python3-mesonpy, python3-pip, python3-venv: building it as a wheel and checking it (slow suite)
pkgs=(meson ninja-build pkg-config gcc libsuitesparse-dev coinor-libipopt-dev libmetis-dev
      check libopenblas0 python3 gnuplot-nox python3-numpy python3-scipy clang libclang-rt-14-dev
      clang-format libcjson-dev python3-dev python3-torch python3-pytest python3-mesonpy
      python3-pip python3-venv)
# Open MPI: foldopt batch across MPI ranks (meson builds it when it finds MPI)
pkgs+=(libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
