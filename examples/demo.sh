#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root), builds wwjail, and runs a real
# guest (python3) under it: one read that is granted, one that is not, a
# write into the private temp dir, and a write outside it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${WWJAIL_BUILD_DIR:-$top/build}

"$top/.ci/install-deps"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target wwjail >/dev/null

cat <<'TXT'
$ wwjail --read /usr --read /etc/os-release -- python3 demo.py
TXT
set +e
"$build/wwjail" --read /usr --read /etc/os-release -- /usr/bin/python3 -S -c '
import os
print("allowed: /etc/os-release says", open("/etc/os-release").readline().strip())
try:
    open("/etc/shadow")
    print("UNEXPECTED: /etc/shadow was readable")
except PermissionError as e:
    print("denied:  /etc/shadow ->", e.strerror)
path = os.path.join(os.environ["TMPDIR"], "scratch.txt")
with open(path, "w") as f:
    f.write("temporary")
print("allowed: wrote", path, "(deleted when the guest exits)")
try:
    open("/usr/wwjail-demo.txt", "w")
    print("UNEXPECTED: /usr was writable")
except PermissionError as e:
    print("denied:  writing /usr/wwjail-demo.txt ->", e.strerror)
'
status=$?
set -e
echo "guest exited with status $status"
exit "$status"
