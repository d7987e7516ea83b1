#!/usr/bin/env bash
# Runs the storage, CLI, network and WebAssembly integration tests as an
# ordinary user: wwjail must work without root, setuid or user namespaces.
# Needs root to create the user and to switch to it; exits 77 (ctest:
# skipped) otherwise.
set -euo pipefail
build=${1:?usage: run-unprivileged.sh BUILD_DIR [GTEST_ARGS...]}
shift
if [[ $(id -u) -ne 0 ]] || ! command -v runuser >/dev/null; then
  echo "run-unprivileged: needs root and runuser to switch users; skipped"
  exit 77
fi
# A system user of this run's own, removed again at the end: the machine is
# left as it was found, and two runs at once never share (or delete) a user.
user=wwjail-test-$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
stage=
cleanup() {
  [[ -n $stage ]] && rm -rf "$stage"
  # userdel refuses while a process of the user lives; the tests end every
  # guest, so this waits only for the last ones to be reaped.
  local i
  for i in 1 2 3 4 5; do
    userdel "$user" 2>/dev/null && return
    sleep 1
  done
  echo "run-unprivileged: could not remove the user $user" >&2
}
trap cleanup EXIT

# Copy what the tests run to a place the user can reach, whatever the
# permissions of the checkout's parent directories.
stage=$(mktemp -d /tmp/wwjail-unpriv.XXXXXX)
cp "$build/wwjail" "$build/wwjail-wasm-run" "$build/tests/wwjail_integration_tests" "$stage/"
cp -r "$build/guests" "$stage/guests"
[[ -d $build/wasm-guests ]] && cp -r "$build/wasm-guests" "$stage/wasm-guests"
chmod -R a+rX "$stage"

cd "$stage"
runuser -u "$user" -- env WWJAIL_TEST_BIN="$stage/wwjail" WWJAIL_TEST_GUEST_DIR="$stage/guests" \
  WWJAIL_TEST_WASM_DIR="$stage/wasm-guests" TMPDIR=/tmp \
  "$stage/wwjail_integration_tests" --gtest_filter='Storage*:Cli*:Network*:Wasm*:NativeAndWasm*:View*:Control*:Timeout*' --gtest_brief=1 "$@"
