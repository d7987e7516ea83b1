#!/usr/bin/env bash
# Runs the examples under examples/ for real with the wwjail binary given as
# $1: every policy must pass `wwjail check`, and each example's workload must
# work (positive check) while one thing outside its grants must fail with a
# "denied" line (denial check). Works on copies in a temp dir, so the
# checkout is never written to. A program that is not installed is skipped
# with a "SKIP:" line. Exits 1 if anything failed.
#
#   tests/integration/examples_test.sh build/wwjail
set -euo pipefail

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 PATH/TO/wwjail" >&2
  exit 2
fi
wwjail=$(realpath "$1")
# The checks that read a denial line run with --mediate files: only the
# broker logs denials (where the kernel decides, one line says how to see them).
top=$(cd "$(dirname "$0")/../.." && pwd)
examples=$top/examples

work=$(mktemp -d "${TMPDIR:-/tmp}/wwjail-examples.XXXXXX")
server_pids=()
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }
skip() { echo "SKIP: $*"; }

# Shows a log file under a failure, indented.
show() { [[ -s $1 ]] && sed 's/^/      | /' "$1" | head -n 40; return 0; }

# Denial lines that are not the known nscd probe (glibc connects to
# /var/run/nscd/socket before reading /etc/passwd; where nscd is absent the
# path cannot be granted). A good example policy leaves nothing else.
unexpected_denials() {
  grep 'wwjail: warning: denied' "$1" | grep -v 'connect unix:/var/run/nscd/socket\|connect unix:/run/nscd/socket' || true
}

# A fresh copy of an example, without files an earlier run in the
# checkout may have left in its writable directories.
copy_example() {
  local name=$1
  cp -r "$examples/$name" "$work/$name"
  local d
  for d in data run out; do
    if [[ -d $work/$name/$d ]]; then
      find "$work/$name/$d" -mindepth 1 ! -name .gitignore -delete
    fi
  done
  chmod -R u+w "$work/$name"
}

# fetch URL: prints the HTTP status on the first line, then the body.
# Goes around any proxy the environment configures.
fetch() {
  python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(sys.argv[1], timeout=10) as r:
        code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
except OSError as e:
    code, body = 0, str(e).encode()
sys.stdout.write(f"{code}\n")
sys.stdout.flush()
sys.stdout.buffer.write(body)
PY
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for_server PID PORT: until the port answers, or the server died, or 20 s.
wait_for_server() {
  local pid=$1 port=$2 i
  for ((i = 0; i < 100; i++)); do
    port_in_use "$port" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

stop_server() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# wwjail check on every example's policy.

check_policy() {
  local label=$1 file=$2 log=$work/check-$1.log
  if "$wwjail" check "$file" >"$log" 2>&1; then
    pass "$label: wwjail check $(basename "$file")"
  else
    fail "$label: wwjail check $(basename "$file") exited $?"
    show "$log"
  fi
}

gcc_helpers=(/usr/lib/gcc/x86_64-linux-gnu/12/cc1 /usr/lib/gcc/x86_64-linux-gnu/12/collect2
  /usr/lib/gcc/x86_64-linux-gnu/12/lto-wrapper /usr/bin/as /usr/bin/ld /usr/bin/nm /usr/bin/strip)
have_gcc12() {
  command -v gcc >/dev/null || return 1
  local f
  for f in "${gcc_helpers[@]}"; do [[ -e $f ]] || return 1; done
}

for name in sqlite3 python-http-server nginx compiler-job container; do
  copy_example "$name"
done

check_policy sqlite3 "$work/sqlite3/policy.toml"
check_policy python-http-server "$work/python-http-server/policy.toml"
if [[ -e /etc/nginx/mime.types ]]; then
  check_policy nginx "$work/nginx/policy.toml"
else
  skip "nginx: wwjail check (nginx not installed: the policy names /etc/nginx/mime.types)"
fi
if have_gcc12; then
  check_policy compiler-job "$work/compiler-job/policy.toml"
else
  skip "compiler-job: wwjail check (gcc 12 for x86_64-linux-gnu not installed: the policy names its helpers)"
fi
# The container's policy names /srv/www, the site's place in the image.
sed "s|\"/srv/www\"|\"$work/container/site\"|" "$work/container/app.toml" >"$work/container/app-local.toml"
check_policy container "$work/container/app-local.toml"
if grep -q '^ENTRYPOINT \["wwjail", "-p", "/etc/wwjail/app.toml", "--"\]' "$work/container/Containerfile" &&
   grep -q 'COPY examples/container/app.toml /etc/wwjail/app.toml' "$work/container/Containerfile"; then
  pass "container: Containerfile installs app.toml and uses wwjail as ENTRYPOINT"
else
  fail "container: Containerfile no longer installs /etc/wwjail/app.toml or uses it in ENTRYPOINT"
fi

# ---------------------------------------------------------------------------
# sqlite3: a database in data/, nothing outside it.

if ! command -v sqlite3 >/dev/null; then
  skip "sqlite3 not installed"
else
  cd "$work/sqlite3"
  log=$work/sqlite3.log
  if out=$("$wwjail" -p policy.toml -- sqlite3 -init /dev/null data/notes.db \
      "create table notes(body text); insert into notes values('written inside the jail'); select body from notes;" 2>"$log") &&
     [[ $out == "written inside the jail" && -s data/notes.db ]]; then
    pass "sqlite3: creates and queries data/notes.db"
  else
    fail "sqlite3: creating data/notes.db (output: '${out:-}')"
    show "$log"
  fi
  if [[ -n $(unexpected_denials "$log") ]]; then
    fail "sqlite3: the allowed workload logged denials"
    unexpected_denials "$log" | sed 's/^/      | /'
  fi

  mkdir -p "$work/outside"
  if "$wwjail" --mediate files -p policy.toml -- sqlite3 -init /dev/null data/notes.db \
      "vacuum into '$work/outside/copy.db';" >/dev/null 2>"$log"; then
    fail "sqlite3: VACUUM INTO a database outside data/ succeeded"
  elif [[ -e $work/outside/copy.db ]]; then
    fail "sqlite3: $work/outside/copy.db was created"
  elif ! grep -q "denied.*$work/outside" "$log"; then
    fail "sqlite3: writing outside data/ failed without a denial line"
    show "$log"
  else
    pass "sqlite3: writing a database outside data/ is denied"
  fi
  if "$wwjail" --mediate files -p policy.toml -- sqlite3 -init /dev/null data/notes.db \
      "attach '$work/outside/other.db' as o; create table o.t(x);" >/dev/null 2>"$log" ||
     [[ -e $work/outside/other.db ]] || ! grep -q 'denied' "$log"; then
    fail "sqlite3: ATTACH of a database outside data/ was not denied"
    show "$log"
  else
    pass "sqlite3: attaching a database outside data/ is denied"
  fi
fi

# ---------------------------------------------------------------------------
# python3 -m http.server: serves site/ on 127.0.0.1:8000, binds nothing else.

python=/usr/bin/python3
if [[ ! -x $python ]]; then
  skip "python3 not installed"
elif port_in_use 8000; then
  fail "python-http-server: port 8000 is already in use; cannot run the example"
else
  cd "$work/python-http-server"
  ln -s /etc/hostname site/outside.txt
  log=$work/python.log
  "$wwjail" -p policy.toml -- "$python" -I -m http.server --bind 127.0.0.1 8000 --directory site \
    >"$work/python.out" 2>"$log" &
  pid=$!
  server_pids+=("$pid")
  if ! wait_for_server "$pid" 8000; then
    fail "python-http-server: the server did not start"
    show "$log"
  else
    reply=$(fetch http://127.0.0.1:8000/index.html)
    if [[ ${reply%%$'\n'*} == 200 && $reply == *"python3 -m http.server running under wwjail"* ]]; then
      pass "python-http-server: serves site/index.html"
    else
      fail "python-http-server: GET /index.html returned: $(head -c 300 <<<"$reply")"
      show "$log"
    fi
    reply=$(fetch http://127.0.0.1:8000/outside.txt)
    hostname_text=$(cat /etc/hostname 2>/dev/null || echo "no hostname file")
    if [[ ${reply%%$'\n'*} == 200 && -n $hostname_text && $reply == *"$hostname_text"* ]]; then
      fail "python-http-server: a symlink out of site/ was served"
    elif [[ ${reply%%$'\n'*} == 200 ]]; then
      fail "python-http-server: GET /outside.txt answered 200"
    else
      pass "python-http-server: a symlink out of site/ is not served (HTTP ${reply%%$'\n'*})"
    fi
  fi
  stop_server "$pid"
  if [[ -n $(unexpected_denials "$log" | grep -v '/etc/hostname') ]]; then
    fail "python-http-server: the allowed workload logged denials"
    unexpected_denials "$log" | grep -v '/etc/hostname' | sed 's/^/      | /'
  fi

  if timeout 30 "$wwjail" -p policy.toml -- "$python" -I -m http.server --bind 127.0.0.1 8001 --directory site \
      >/dev/null 2>"$log"; then
    fail "python-http-server: the server on port 8001 ran and exited 0"
  elif grep -q 'denied.*bind tcp:127.0.0.1:8001' "$log" && grep -q PermissionError "$log"; then
    pass "python-http-server: binding 127.0.0.1:8001 is denied"
  else
    fail "python-http-server: binding 127.0.0.1:8001 did not fail with a denial"
    show "$log"
  fi
fi

# ---------------------------------------------------------------------------
# nginx: serves html/ on 127.0.0.1:8080, writes only run/.

nginx=/usr/sbin/nginx
if [[ ! -x $nginx ]]; then
  skip "nginx not installed"
elif port_in_use 8080; then
  fail "nginx: port 8080 is already in use; cannot run the example"
else
  cd "$work/nginx"
  ln -s /etc/hostname html/outside.txt
  log=$work/nginx.log
  "$wwjail" --mediate files -p policy.toml -- "$nginx" -p "$work/nginx/" -c nginx.conf >"$work/nginx.out" 2>"$log" &
  pid=$!
  server_pids+=("$pid")
  if ! wait_for_server "$pid" 8080; then
    fail "nginx: the server did not start"
    show "$log"
  else
    reply=$(fetch http://127.0.0.1:8080/)
    if [[ ${reply%%$'\n'*} == 200 && $reply == *"Hello from nginx running under wwjail."* ]]; then
      pass "nginx: serves html/index.html"
    else
      fail "nginx: GET / returned: $(head -c 300 <<<"$reply")"
      show "$log"
    fi
    reply=$(fetch http://127.0.0.1:8080/outside.txt)
    if [[ ${reply%%$'\n'*} == 403 ]]; then
      pass "nginx: a symlink out of html/ is refused (HTTP 403)"
    else
      fail "nginx: GET /outside.txt answered ${reply%%$'\n'*}, expected 403"
      show "$log"
    fi
  fi
  stop_server "$pid"
  if grep -q 'GET / HTTP' run/access.log 2>/dev/null; then
    pass "nginx: wrote its access log into run/"
  else
    fail "nginx: no access log in run/"
  fi
  if [[ -n $(unexpected_denials "$log") ]]; then
    fail "nginx: the allowed workload logged denials"
    unexpected_denials "$log" | sed 's/^/      | /'
  fi

  sed 's/127\.0\.0\.1:8080/127.0.0.1:8081/' nginx.conf >"$work/nginx-8081.conf"
  if timeout 30 "$wwjail" -p policy.toml --read "$work/nginx-8081.conf" -- \
      "$nginx" -p "$work/nginx/" -c "$work/nginx-8081.conf" >/dev/null 2>"$log"; then
    fail "nginx: listening on 127.0.0.1:8081 succeeded"
  elif grep -q 'denied.*bind tcp:127.0.0.1:8081' "$log" && grep -q 'Permission denied' "$log"; then
    pass "nginx: binding 127.0.0.1:8081 is denied"
  else
    fail "nginx: binding 127.0.0.1:8081 did not fail with a denial"
    show "$log"
  fi
fi

# ---------------------------------------------------------------------------
# compiler-job: gcc builds src/hello.c into out/ and nowhere else.

if ! have_gcc12; then
  skip "gcc 12 for x86_64-linux-gnu not installed"
else
  cd "$work/compiler-job"
  log=$work/gcc.log
  if "$wwjail" -p policy.toml -- gcc -O2 -Wall -o out/hello src/hello.c >"$work/gcc.out" 2>"$log" &&
     [[ $(./out/hello) == "hello from a program compiled inside wwjail" ]]; then
    pass "compiler-job: gcc builds out/hello, which runs"
  else
    fail "compiler-job: building or running out/hello"
    show "$work/gcc.out"
    show "$log"
  fi
  if [[ -n $(unexpected_denials "$log") ]]; then
    fail "compiler-job: the allowed workload logged denials"
    unexpected_denials "$log" | sed 's/^/      | /'
  fi

  if "$wwjail" --mediate files -p policy.toml -- gcc -O2 -o hello src/hello.c >/dev/null 2>"$log"; then
    fail "compiler-job: gcc wrote ./hello outside out/"
  elif [[ -e hello ]]; then
    fail "compiler-job: ./hello exists although the link failed"
  elif grep -q "denied.*$work/compiler-job/hello" "$log"; then
    pass "compiler-job: writing the binary outside out/ is denied"
  else
    fail "compiler-job: writing outside out/ failed without a denial line"
    show "$log"
  fi
  if "$wwjail" --mediate files -p policy.toml -- gcc -E -include /etc/hostname src/hello.c >/dev/null 2>"$log" ||
     ! grep -q 'denied.*/etc/hostname' "$log"; then
    fail "compiler-job: reading /etc/hostname from gcc was not denied"
    show "$log"
  else
    pass "compiler-job: reading outside the project and toolchain is denied"
  fi
fi

# The README's first example, run exactly as written (the first fenced
# block of README.md), with this build's wwjail first on PATH.
readme_example() {
  local dir=$work/readme-first log=$work/readme-first.log out
  mkdir -p "$dir/bin"
  ln -s "$wwjail" "$dir/bin/wwjail"
  awk '/^```/{n++; next} n==1' "$top/README.md" >"$dir/example.sh"
  if ! out=$(cd "$dir" && PATH=$dir/bin:/usr/bin:/bin bash -e example.sh 2>"$log"); then
    fail "README: the first example failed"
    show "$log"
  elif [[ $out != *PRETTY_NAME=* ]]; then
    fail "README: the first example printed: $out"
  else
    pass "README: the first example runs as written"
  fi
}
readme_example

cd /
if ((failures)); then
  echo "examples_test: $failures check(s) failed"
  exit 1
fi
echo "examples_test: all checks passed"
