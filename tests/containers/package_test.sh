#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` in the build tree, the .deb unpacked
# into a scratch root with `dpkg -x` (no root needed, the machine is not
# touched), then wwjail --version and one jailed program run from there, so
# that the installed wwjail is shown to find its runner and profiles
# relative to its own prefix. Also: Depends names the runtime libraries, and
# the package holds every file it should.
#
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (dpkg-dev, cmake)"; exit 77; }
done
scratch=$(mktemp -d /tmp/wwjail-package.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail=0
check() {  # check WHAT COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

(cd "$build" && cpack -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) || { cat "$scratch/cpack.log"; exit 1; }
deb=$(ls "$scratch"/out/*.deb)
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
depend_names=$(tr ',|' '\n\n' <<<"$depends" | awk '{print $1}')
# Every shared library the packaged programs load (DT_NEEDED) belongs to a
# package that Depends names.
unpacked=$scratch/unpacked
dpkg-deb -x "$deb" "$unpacked"
needed=$(for f in "$unpacked"/usr/bin/* "$unpacked"/usr/libexec/wwjail/*; do
  objdump -p "$f" | awk '$1 == "NEEDED" {print $2}'
done | sort -u)
for lib in $needed; do
  # awk reads to the end (no early exit): ldconfig would die of SIGPIPE, and
  # pipefail would end the script, whenever it had not finished writing.
  path=$(ldconfig -p | awk -v l="$lib" '!found && $1 == l && /x86-64|x86_64|64bit/ {print $NF; found = 1}')
  [[ -n $path ]] || path=$(ldconfig -p | awk -v l="$lib" '!found && $1 == l {print $NF; found = 1}')
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) || pkg=
  [[ -n $pkg ]] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || pkg=
  # The package, or a name it Provides (libspdlog1.10 provides libspdlog1.10-fmt9).
  names=${pkg:-no-package}
  [[ -n $pkg ]] && names+=$'\n'$(dpkg-query -W -f='${Provides}' "$pkg" 2>/dev/null | tr ',' '\n' | awk '{print $1}')
  check "Depends covers $lib (package ${pkg:-unknown})" grep -qxF -f <(grep . <<<"$names") <<<"$depend_names"
done
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/wwjail ./usr/bin/wwjail-runc ./usr/libexec/wwjail/wwjail-wasm-run \
         ./usr/share/man/man1/wwjail.1 ./usr/share/man/man1/wwjail-runc.1 ./usr/share/man/man5/wwjail.policy.5 \
         ./usr/share/wwjail/profiles/dynamic-elf.toml ./usr/share/doc/wwjail/examples/kubernetes/runtimeclass.yaml; do
  check "the package holds ${f#.}" grep -q " $f\$" <<<"$contents"
done

root=$scratch/root
dpkg -x "$deb" "$root"
version=$("$root/usr/bin/wwjail" --version)
check "the installed wwjail --version says $version" test -n "$version"
out=$("$root/usr/bin/wwjail" --read /etc/hostname -- /bin/cat /etc/hostname)
check "the installed wwjail runs a jailed program" test "$out" = "$(cat /etc/hostname)"
if "$root/usr/bin/wwjail" -- /bin/cat /etc/passwd >/dev/null 2>&1; then
  echo "FAIL the installed wwjail denies an ungranted read"; fail=1
else
  echo "ok   the installed wwjail denies an ungranted read"
fi
printf '#!/bin/sh\necho "runtime got: $*"\n' >"$scratch/fake-runtime"
chmod +x "$scratch/fake-runtime"
out=$(WWJAIL_RUNTIME=$scratch/fake-runtime "$root/usr/bin/wwjail-runc" --root /r state id)
check "the installed wwjail-runc hands other verbs to the runtime" test "$out" = "runtime got: --root /r state id"
# The WebAssembly runner is found in ../libexec/wwjail from the installed
# wwjail: a WebAssembly guest runs (compiled with the host's wasm2c and cc).
wasm=$build/wasm-guests/wasi_probe.wasm
if [[ -f $wasm ]] && command -v wasm2c >/dev/null && command -v cc >/dev/null; then
  out=$("$root/usr/bin/wwjail" --cache "$scratch/cache" -- "$wasm" exit 0 2>&1 && echo "status 0") || true
  check "the installed wwjail runs a WebAssembly guest through its installed runner" grep -q "status 0" <<<"$out"
  [[ $out == *"status 0"* ]] || echo "     $out"
else
  echo "note: no WebAssembly guest or no wasm2c/cc: the installed runner is not exercised"
fi
exit $fail
