#!/usr/bin/env python3
"""wwjail as a container's PID 1 under runc, with containers-common's stock
seccomp profile converted as Podman converts it, as root and as uid 1000:
an allowed and a denied access, the exit status passed through, the private
temp dir on a read-only root (and the message when there is nowhere to put
it), SIGTERM from `runc kill` reaching the guest, orphans reaped.

Usage: runc_pid1_test.py BUILD_DIR
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrtest  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
WWJAIL = os.path.join(BUILD, "wwjail")


class Runc:
    def __init__(self, runc, scratch):
        self.runc, self.scratch = runc, scratch
        self.state = os.path.join(scratch.path, "state")
        self.n = 0
        scratch.on_exit(self.delete_all)

    def bundle(self, wwjail_args, **kw):
        self.n += 1
        b = os.path.join(self.scratch.path, f"b{self.n}")
        ctrtest.make_bundle(b, [WWJAIL] + wwjail_args, extra_binds=[BUILD], **kw)
        return b, f"wwjail-pid1-{os.getpid()}-{self.n}"

    def run(self, wwjail_args, **kw):
        b, cid = self.bundle(wwjail_args, **kw)
        r = ctrtest.run([self.runc, "--root", self.state, "run", "--bundle", b, cid], timeout=60)
        ctrtest.run([self.runc, "--root", self.state, "delete", "--force", cid])
        return r

    def start(self, wwjail_args, **kw):
        b, cid = self.bundle(wwjail_args, **kw)
        p = subprocess.Popen([self.runc, "--root", self.state, "run", "--bundle", b, cid], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return p, cid

    def cmd(self, *args):
        return ctrtest.run([self.runc, "--root", self.state, *args])

    def delete_all(self):
        r = self.cmd("list", "-q")
        for cid in r.stdout.split():
            self.cmd("delete", "--force", cid)

    def left(self):
        return self.cmd("list", "-q").stdout.split() if os.path.isdir(self.state) else []


def wait_line(p, word, limit=30):
    """Reads the guest's stdout until a line equal to word; False at EOF."""
    lines = []
    for line in p.stdout:
        lines.append(line.rstrip("\n"))
        if line.strip() == word:
            return True, lines
    return False, lines


def host_pid_of(cid_pids, ns_pid):
    for hp in cid_pids:
        try:
            with open(f"/proc/{hp}/status") as f:
                for line in f:
                    if line.startswith("NSpid:") and line.split()[-1] == str(ns_pid):
                        return hp
        except OSError:
            continue
    return None


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def accesses(c, rc, who):
    host_name = open("/etc/hostname").read()
    r = rc.run(["--read", "/etc/hostname", "--", "/bin/cat", "/etc/hostname"], uid=who)
    c.check(r.returncode == 0 and r.stdout == host_name, f"uid {who}: a granted read is allowed",
            f"exit {r.returncode}, out {r.stdout!r}, err {r.stderr!r}")
    r = rc.run(["--", "/bin/cat", "/etc/passwd"], uid=who)
    c.check(r.returncode == 1 and "Permission denied" in r.stderr and "root:" not in r.stdout,
            f"uid {who}: an ungranted read is denied", f"exit {r.returncode}, err {r.stderr!r}")
    r = rc.run(["--", "/bin/sh", "-c", "exit 7"], uid=who)
    c.check(r.returncode == 7, f"uid {who}: the guest's exit status is the container's", f"exit {r.returncode} {r.stderr!r}")
    r = rc.run(["--", "/bin/sh", "-c", 'echo "$TMPDIR"; echo x > "$TMPDIR/f" && echo wrote'], uid=who)
    c.check(r.returncode == 0 and r.stdout.startswith("/dev/shm/wwjail.") and r.stdout.endswith("wrote\n"),
            f"uid {who}: read-only root, no /tmp: the temp dir goes to /dev/shm", f"{r.stdout!r} {r.stderr!r}")
    r = rc.run(["--", "/bin/true"], uid=who, shm=False)
    c.check(r.returncode == 125 and "mount a tmpfs" in r.stderr and "--no-tmpdir" in r.stderr
            and len(r.stderr.strip().splitlines()) == 1,
            f"uid {who}: nowhere writable: exit 125 and one line saying what to do", f"{r.returncode} {r.stderr!r}")
    r = rc.run(["--no-tmpdir", "--", "/bin/true"], uid=who, shm=False)
    c.check(r.returncode == 0, f"uid {who}: the same with --no-tmpdir runs", f"{r.returncode} {r.stderr!r}")


def runc_own_capabilities(c, rc):
    """runc's own default set has no CAP_SETPCAP: root there cannot shrink
    its bounding set, and wwjail used to refuse to start (EPERM)."""
    host_name = open("/etc/hostname").read()
    r = rc.run(["--read", "/etc/hostname", "--", "/bin/cat", "/etc/hostname"], uid=0, runc_caps=True)
    c.check(r.returncode == 0 and r.stdout == host_name, "runc's capabilities: a granted read is allowed",
            f"exit {r.returncode}, out {r.stdout!r}, err {r.stderr!r}")
    r = rc.run(["--exec", "/usr/bin", "--", "/bin/sh", "-c", "grep -E '^Cap(Prm|Eff|Amb)' /proc/self/status; cat /etc/passwd"], uid=0,
               runc_caps=True)
    caps = [line.split()[1] for line in r.stdout.splitlines() if line.startswith("Cap")]
    c.check(caps == ["0000000000000000"] * 3, "runc's capabilities: the guest holds none", f"{r.stdout!r} {r.stderr!r}")
    c.check(r.returncode == 1 and "Permission denied" in r.stderr and "root:" not in r.stdout,
            "runc's capabilities: an ungranted read is denied", f"exit {r.returncode}, err {r.stderr!r}")


def sigterm(c, rc, who):
    p, cid = rc.start(["--exec", "/usr/bin", "--", "/bin/sh", "-c",
                       'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done'], uid=who)
    ok, lines = wait_line(p, "ready")
    if c.check(ok, f"uid {who}: the guest started", f"{lines} {p.stderr.read() if not ok else ''}"):
        k = rc.cmd("kill", cid, "TERM")
        c.check(k.returncode == 0, f"uid {who}: runc kill TERM", k.stderr)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    c.check(p.returncode == 42 and "got-term" in out, f"uid {who}: SIGTERM reached the guest, its status came back",
            f"exit {p.returncode}, out {out!r}, err {err!r}")
    rc.cmd("delete", "--force", cid)


def orphans(c, rc, who):
    p, cid = rc.start(["--exec", "/usr/bin", "--", "/bin/sh", "-c",
                       'sh -c "sleep 1 & echo orphan \\$!"; echo ready; sleep 60'], uid=who)
    ok, lines = wait_line(p, "ready")
    ns_pid = next((l.split()[1] for l in lines if l.startswith("orphan ")), None)
    if c.check(ok and ns_pid, f"uid {who}: an orphan was left", f"{lines}"):
        ps = rc.cmd("ps", "--format", "json", cid)
        pids = [int(x) for x in (ps.stdout.strip() and __import__("json").loads(ps.stdout) or [])]
        hp = host_pid_of(pids, ns_pid)
        state = proc_state(hp) if hp else None
        # Reaped: gone. A zombie stays a zombie for as long as nobody waits for it.
        for _ in range(400):
            if not hp or proc_state(hp) is None:
                break
            state = proc_state(hp)
            time.sleep(0.05)
        c.check(hp is not None, f"uid {who}: the orphan is seen from the host while it runs", f"pids {pids}")
        c.check(hp is not None and proc_state(hp) is None, f"uid {who}: the orphan was reaped (not left a zombie)",
                f"host pid {hp}, state {state}")
    rc.cmd("kill", cid, "TERM")
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
    c.check(p.returncode == 143, f"uid {who}: a guest without a handler ends on SIGTERM (143)", f"exit {p.returncode}")
    rc.cmd("delete", "--force", cid)


def main():
    runc = ctrtest.require_root_and("runc")
    scratch = ctrtest.Scratch("wwjail-runc-pid1.")
    why = ctrtest.runc_works(runc, scratch)
    if why:
        ctrtest.skip(f"runc cannot run a plain container here: {why}")
    ctrtest.announce_profile()
    c = ctrtest.Checks("runc_pid1")
    rc = Runc(runc, scratch)
    runc_own_capabilities(c, rc)
    for who in (0, 1000):
        accesses(c, rc, who)
        sigterm(c, rc, who)
        orphans(c, rc, who)
    c.check(rc.left() == [], "no container left in runc list", str(rc.left()))
    c.done()


if __name__ == "__main__":
    main()
