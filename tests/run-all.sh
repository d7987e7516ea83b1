#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root), builds wwjail, and runs every
# test: unit, integration (as root and as an unprivileged user), a quick
# benchmark smoke run, and the libFuzzer targets. This is what CI runs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${WWJAIL_BUILD_DIR:-$top/build}

"$top/.ci/install-deps"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWWJAIL_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j1 --timeout 600
# libFuzzer targets, 60 s each, in their own build dir (skipped, with a
# message, where clang++ is absent).
"$top/tests/fuzz/run-fuzzers.sh"
