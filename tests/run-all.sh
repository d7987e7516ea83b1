#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root), builds wwjail, and runs every
# test: unit, integration (as root and as an unprivileged user), a quick
# benchmark smoke run, and the libFuzzer targets. This is what CI runs
# (.ci/run, in a clean environment).
#
# The suite runs twice: in build/ (RelWithDebInfo), then in build-asan/,
# built with -DWWJAIL_SANITIZE=ON (AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer in wwjail and the test binaries; the jailed
# guests and the WebAssembly runner stay plain). Every sanitizer report is
# written to a file as well as failing its run, so a report in a process
# whose exit status a test does not look at is still seen.
#
#   WWJAIL_BUILD_DIR, WWJAIL_ASAN_BUILD_DIR   the two trees
#   WWJAIL_SANITIZE=0                         skip the second pass

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${WWJAIL_BUILD_DIR:-$top/build}
asan_build=${WWJAIL_ASAN_BUILD_DIR:-$top/build-asan}

"$top/.ci/install-deps"

# Configures, builds and runs ctest in one tree; extra arguments go to cmake.
run_suite() {
  local dir=$1
  shift
  cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWWJAIL_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
  (cd "$dir" && ctest --output-on-failure -j1 --timeout 600)
}

status=0
start=$SECONDS
run_suite "$build" -DWWJAIL_SANITIZE=OFF || status=1
echo "run-all: build/ built and tested in $((SECONDS - start)) s"

if [[ ${WWJAIL_SANITIZE:-1} != 0 ]]; then
  start=$SECONDS
  # Reports go to files in a directory every test user can write (the
  # unprivileged rerun runs wwjail as another user), and are shown below.
  reports=$(mktemp -d /tmp/wwjail-sanitizer.XXXXXX)
  chmod 1777 "$reports"
  export ASAN_OPTIONS="log_path=$reports/report:log_exe_name=1:abort_on_error=0:detect_leaks=1"
  export UBSAN_OPTIONS="log_path=$reports/report:log_exe_name=1:print_stacktrace=1:halt_on_error=1"
  run_suite "$asan_build" -DWWJAIL_SANITIZE=ON || status=1
  if compgen -G "$reports/report*" >/dev/null; then
    echo "run-all: the sanitizers reported:"
    for f in "$reports"/report*; do
      echo "=== $f"
      cat "$f"
    done
    status=1
  else
    echo "run-all: no sanitizer reports"
  fi
  rm -rf "$reports"
  echo "run-all: build-asan/ built and tested in $((SECONDS - start)) s"
fi

# libFuzzer targets, 60 s each, in their own build dir (skipped, with a
# message, where clang++ is absent).
"$top/tests/fuzz/run-fuzzers.sh" || status=1
exit "$status"
