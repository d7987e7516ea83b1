#!/usr/bin/env python3
"""Real programs, none of them ours, natively, under wwjail and under bubblewrap.

Each workload runs in rounds; a round runs the four variants (native, wwjail
as it runs by default, wwjail with --mediate files, bubblewrap) one after the
other, in an order that rotates from round to round, so a burst of load from
elsewhere on the machine hits all of them alike. A round gives one ratio per
jail (variant / native); a row shows the median native figure and the median
of the per-round ratios. Wall time is measured around the whole process (fork
to reap), as a user would see it.

  bench/real_programs.py [--wwjail PATH] [--rounds N] [--quick]
                         [--only nginx,dnsmasq,tar,git,python3] [--wwjail-arg ARG]...

Workloads (what their hot path is):
  nginx    Debian's nginx serving a 4 KiB file from disk, `wrk -t2 -c16`:
           open, fstat, sendfile/read, close per request. Requests/s.
  dnsmasq  Debian's dnsmasq answering a local record (--address) over UDP on
           loopback, under Debian's dnsperf (100 queries outstanding): one
           recvmsg and one addressed sendmsg per query, and the sendmsg is a
           broker decision (the reply right of a socket bound through
           --bind udp:...). Queries/s.
  tar      `tar -cf /dev/null` of a 2,000-file tree: lstat and openat per file.
  git      `git status` in a work tree of the same 2,000 files: lstat per file.
  python3  `python3 -c pass`: start-up, a few hundred stat and open calls.

bubblewrap gets the same view as wwjail's grants: /usr and /etc read-only,
the scratch directory writable, /dev and /proc of its own, loopback shared.

Exit status: 0 when every run worked (targets are reported, never enforced),
1 when a run failed or printed something unparsable, 2 on usage errors.
"""
import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TREE_FILES = 2000
TREE_DIRS = 40


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tree(root):
    """2,000 small files in 40 directories, and a git work tree of them."""
    os.makedirs(root)
    for d in range(TREE_DIRS):
        sub = os.path.join(root, f"d{d:02}")
        os.mkdir(sub)
        for f in range(TREE_FILES // TREE_DIRS):
            with open(os.path.join(sub, f"f{f:03}.txt"), "w") as out:
                out.write(f"file {d}/{f}\n" * (1 + f % 32))
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost")
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "tree"]):
        subprocess.run(argv, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    # git status refreshes the index once after files were written; do it now
    # so that every timed run does the same (read-only) work.
    subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True, stdout=subprocess.DEVNULL)


def nginx_conf(scratch, port):
    docroot = os.path.join(scratch, "www")
    os.makedirs(docroot, exist_ok=True)
    with open(os.path.join(docroot, "file.bin"), "wb") as f:
        f.write(bytes(range(256)) * 16)  # 4 KiB
    run = os.path.join(scratch, f"nginx-{port}")
    os.makedirs(run, exist_ok=True)
    conf = os.path.join(run, "nginx.conf")
    # master_process off: one process serves, so no variant needs setuid; as
    # root, "user root" keeps nginx from chowning its temp dirs to nobody.
    user = "user root;\n" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(f"""{user}master_process off;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {run}/body;
  proxy_temp_path {run}/proxy;
  fastcgi_temp_path {run}/fastcgi;
  uwsgi_temp_path {run}/uwsgi;
  scgi_temp_path {run}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {docroot};
  }}
}}
""")
    return conf, run, docroot


class Jails:
    """Builds the three command lines of a workload from the same grants."""

    def __init__(self, wwjail, wwjail_args, scratch):
        self.wwjail = wwjail
        self.wwjail_args = wwjail_args
        self.scratch = scratch

    def variants(self, argv, reads=(), writes=(), binds=()):
        ww = [self.wwjail, "--read", "/usr", "--read", "/etc", *self.wwjail_args]
        bw = ["bwrap", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
              "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
              "--unshare-all", "--share-net", "--die-with-parent"]
        for top in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
            link = os.path.join("/", top)
            if os.path.islink(link):
                bw += ["--symlink", os.readlink(link), link]
            elif os.path.isdir(link):
                bw += ["--ro-bind", link, link]
        for p in reads:
            ww += ["--read", p]
            bw += ["--ro-bind", p, p]
        for p in writes:
            ww += ["--write", p]
            bw += ["--bind", p, p]
        for spec in binds:
            ww += ["--bind", spec]
        return {"native": argv, "wwjail": [*ww, "--", *argv],
                "mediated": [ww[0], "--mediate", "files", *ww[1:], "--", *argv], "bwrap": [*bw, "--", *argv]}


def timed(argv, cwd=None):
    start = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {r.returncode}: {r.stderr.decode(errors='replace')[-300:]}")
    return elapsed


def wait_for_port(port, proc, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}: {proc.stderr.read().decode(errors='replace')[-300:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("server did not listen within 10 s")


@contextlib.contextmanager
def server(argv):
    """A server process for the length of a measurement, then SIGTERM (SIGKILL after 10 s)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def nginx_rps(argv, port, duration):
    with server(argv) as proc:
        wait_for_port(port, proc)
        out = subprocess.run(["wrk", "-t2", "-c16", f"-d{duration}s", f"http://127.0.0.1:{port}/file.bin"],
                             capture_output=True, text=True, timeout=duration + 30)
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out.stdout)
        if not m or "Non-2xx" in out.stdout or "Socket errors" in out.stdout:
            raise RuntimeError(f"wrk: {out.stdout[-400:]}{out.stderr[-200:]}")
        return float(m.group(1))


# A DNS query for bench.test, type A, class IN.
DNS_QUERY = bytes.fromhex("1234 0100 0001 0000 0000 0000") + b"\x05bench\x04test\x00" + bytes.fromhex("0001 0001")


def wait_for_dns(port, proc, seconds=10):
    deadline = time.monotonic() + seconds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.1)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"dnsmasq exited {proc.returncode}: {proc.stderr.read().decode(errors='replace')[-300:]}")
            s.sendto(DNS_QUERY, ("127.0.0.1", port))
            try:
                if s.recv(512)[:2] == DNS_QUERY[:2]:
                    return
            except OSError:
                pass
    raise RuntimeError("dnsmasq did not answer within 10 s")


def dnsmasq_qps(argv, port, queries, duration):
    with server(argv) as proc:
        wait_for_dns(port, proc)
        out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries, "-l", str(duration),
                              "-q", "100"], capture_output=True, text=True, timeout=duration + 30)
        m = re.search(r"Queries per second:\s+([0-9.]+)", out.stdout)
        done = re.search(r"Queries completed:\s+([0-9]+)", out.stdout)
        if not m or not done or int(done.group(1)) == 0:
            raise RuntimeError(f"dnsperf: {out.stdout[-400:]}{out.stderr[-200:]}")
        return float(m.group(1))


class Workload:
    def __init__(self, name, unit, higher_is_better, targets, measure):
        self.name, self.unit, self.higher_is_better = name, unit, higher_is_better
        self.targets = targets  # variant -> (comparison, ratio) or absent
        self.measure = measure  # variant -> one figure


def workloads(jails, scratch, tree, quick):
    duration = 1 if quick else 3
    ws = []

    def nginx(variant):
        port = free_port()
        conf, run, docroot = nginx_conf(scratch, port)
        argv = ["nginx", "-c", conf, "-p", run, "-e", os.path.join(run, "error.log")]
        v = jails.variants(argv, reads=[docroot], writes=[run], binds=[f"tcp:127.0.0.1:{port}"])
        return nginx_rps(v[variant], port, duration)

    ws.append(Workload("nginx 4 KiB file, wrk -c16", "req/s", True, {"wwjail": (">=", 0.95)}, nginx))
    queries = os.path.join(scratch, "dns-queries.txt")
    with open(queries, "w") as f:
        f.write("bench.test A\n")

    def dnsmasq(variant):
        port = free_port()
        # In the foreground, no config, no upstream, no syslog; as root it
        # stays root (a setuid to nobody needs capabilities wwjail drops).
        argv = ["dnsmasq", "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--address=/bench.test/127.0.0.1", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--pid-file=", "--log-facility=-"]
        if os.geteuid() == 0:
            argv.append("--user=root")
        v = jails.variants(argv, binds=[f"udp:127.0.0.1:{port}", f"tcp:127.0.0.1:{port}"])
        return dnsmasq_qps(v[variant], port, queries, duration)

    ws.append(Workload("dnsmasq UDP, dnsperf -q100", "q/s", True, {}, dnsmasq))
    tar = jails.variants(["tar", "-cf", "/dev/null", "-C", tree, "."], reads=[tree])
    ws.append(Workload("tar -cf /dev/null, 2000 files", "ms", False, {"wwjail": ("<=", 1.25)},
                       lambda v: timed(tar[v]) * 1000))
    git = jails.variants(["git", "-C", tree, "status", "--porcelain"], writes=[tree])
    ws.append(Workload("git status, 2000 files", "ms", False, {"wwjail": ("<=", 1.25)},
                       lambda v: timed(git[v]) * 1000))
    py = jails.variants(["python3", "-c", "pass"])
    ws.append(Workload("python3 -c pass", "ms", False, {"wwjail": ("<=", 1.15)},
                       lambda v: timed(py[v]) * 1000))
    return ws


def run_rounds(w, rounds, verbose):
    order = ["native", "wwjail", "mediated", "bwrap"]
    figures = {v: [] for v in order}
    ratios = {"wwjail": [], "mediated": [], "bwrap": []}
    for r in range(rounds):
        rot = order[r % len(order):] + order[:r % len(order)]
        got = {v: w.measure(v) for v in rot}
        for v in order:
            figures[v].append(got[v])
        for v in ratios:
            ratios[v].append(got[v] / got["native"])
        if verbose:
            print(f"  {w.name} round {r}: " + ", ".join(f"{v} {got[v]:.2f}" for v in order), file=sys.stderr)
    return figures, ratios


def verdict(target, ratio):
    if not target:
        return "-", "-"
    op, bound = target
    ok = ratio >= bound if op == ">=" else ratio <= bound
    return f"{op} {bound:.2f}x", "PASS" if ok else "FAIL"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wwjail", default=os.path.join(here, "..", "build", "wwjail"))
    ap.add_argument("--wwjail-arg", action="append", default=[], help="extra wwjail flag (repeatable)")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    for tool in ("bwrap", "wrk", "nginx", "dnsmasq", "dnsperf", "tar", "git", "python3"):
        if not shutil.which(tool):
            print(f"real_programs: {tool} is not installed (.ci/install-deps installs it)", file=sys.stderr)
            return 2
    if not os.access(a.wwjail, os.X_OK):
        print(f"real_programs: no wwjail at {a.wwjail} (give --wwjail)", file=sys.stderr)
        return 2
    rounds = a.rounds or (3 if a.quick else 9)
    only = set(filter(None, a.only.split(",")))
    scratch = tempfile.mkdtemp(prefix="wwjail-real-bench.")
    failed = False
    try:
        tree = os.path.join(scratch, "tree")
        make_tree(tree)
        jails = Jails(os.path.abspath(a.wwjail), a.wwjail_arg, scratch)
        print(f"{'workload':34} {'native':>12} {'wwjail':>8} {'mediated':>9} {'bwrap':>8}  {'target':9} result  rounds")
        print("-" * 100)
        for w in workloads(jails, scratch, tree, a.quick):
            if only and not any(w.name.startswith(o) for o in only):
                continue
            try:
                figures, ratios = run_rounds(w, rounds, a.verbose)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"{w.name:34} ERROR: {e}")
                failed = True
                continue
            med = {v: statistics.median(r) for v, r in ratios.items()}
            target, result = verdict(w.targets.get("wwjail"), med["wwjail"])
            native = f"{statistics.median(figures['native']):.1f} {w.unit}"
            print(f"{w.name:34} {native:>12} {med['wwjail']:7.2f}x {med['mediated']:8.2f}x {med['bwrap']:7.2f}x  "
                  f"{target:9} {result:6}  {rounds}")
        print("ratios: variant/native, median of per-round ratios (req/s: higher is better; ms: lower is better)")
        print("wwjail: the default (the kernel decides file calls where it can); mediated: --mediate files")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
