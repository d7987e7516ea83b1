#!/usr/bin/env python3
"""wwjail-runc driven the way containerd's runc shim drives a runtime
(create, start, state, kill, delete on a bundle, with --root, --log and
--log-format json before the verb): the policy from an annotation or a host
file, an allowed and a denied access, the default container policy, a bad
policy refused at create with its place and nothing left behind, other
verbs and --wwjail-runtime passed through.

Usage: wwjail_runc_test.py BUILD_DIR
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrtest  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
WRAPPER = os.path.join(BUILD, "wwjail-runc")

GUEST = ('cat /etc/hostname; cat /etc/shadow; echo "shadow $?"; echo x > /dev/shm/outside; echo "outside $?"; '
         'echo x > "$TMPDIR/inside"; echo "inside $?"; trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done')
POLICY = '[storage]\nread = ["/etc/hostname"]\nexec = ["/usr/bin"]\n'
BAD_POLICY = '[storage]\nread = ["/etc/hostname",\n        5]\n'


class Shim:
    """What containerd's shim does, one verb at a time."""

    def __init__(self, scratch, runtime_env=None):
        self.scratch = scratch
        self.state = os.path.join(scratch.path, "state")
        self.log = os.path.join(scratch.path, "runtime-log.json")
        self.env = dict(os.environ, **(runtime_env or {}))
        scratch.on_exit(self.delete_all)

    def verb(self, *args, stdout=None, env=None):
        cmd = [WRAPPER, "--root", self.state, "--log", self.log, "--log-format", "json", *args]
        if stdout is None:
            return ctrtest.run(cmd, env=env or self.env)
        # The container keeps create's stdout and stderr: files, not pipes, or create's caller waits for them.
        with open(stdout.name + ".err", "w+") as err:
            r = ctrtest.subprocess.run(cmd, stdin=ctrtest.subprocess.DEVNULL, stdout=stdout, stderr=err, text=True,
                                       timeout=60, env=env or self.env)
            err.seek(0)
            r.stderr = err.read()
        return r

    def status(self, cid):
        r = self.verb("state", cid)
        return json.loads(r.stdout)["status"] if r.returncode == 0 else None

    def listed(self):
        r = self.verb("list", "--format", "json")
        return [c["id"] for c in (json.loads(r.stdout) or [])] if r.returncode == 0 and r.stdout.strip() else []

    def delete_all(self):
        for cid in self.listed():
            self.verb("delete", "--force", cid)


def bundle(scratch, name, annotations=None):
    b = os.path.join(scratch.path, name)
    config = ctrtest.make_bundle(b, ["/bin/sh", "-c", GUEST])
    if annotations:
        config["annotations"] = annotations
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(config, f, indent=1)
    return b


def wait_for(pred, tries=300):
    for _ in range(tries):
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def under_wwjail(args):
    """The container's own args when `args` runs them under wwjail, started by the host's loader; else None."""
    loader = ["/.wwjail/lib/ld-linux-x86-64.so.2", "--inhibit-cache", "--library-path", "/.wwjail/lib",
              "/.wwjail/wwjail", "--clean-env"]
    tail = ["--policy", "/.wwjail/policy.toml", "--"]
    if args[:len(loader)] != loader:
        return None
    i = len(loader)
    while i < len(args) and args[i].startswith("--env="):
        i += 1
    return args[i + len(tail):] if args[i:i + len(tail)] == tail else None


def lifecycle(c, shim, scratch, name, annotations, expect):
    b = bundle(scratch, name, annotations)
    cid = f"wwjail-shim-{os.getpid()}-{name}"
    out_path = os.path.join(scratch.path, name + ".out")
    with open(out_path, "w") as out:
        r = shim.verb("create", "--bundle", b, "--pid-file", os.path.join(b, "init.pid"), cid, stdout=out)
    if not c.check(r.returncode == 0, f"{name}: create", r.stderr):
        return
    with open(os.path.join(b, "config.json")) as f:
        args = json.load(f)["process"]["args"]
    c.check(under_wwjail(args) == ["/bin/sh", "-c", GUEST],
            f"{name}: config.json runs the process under wwjail", str(args))
    c.check(shim.status(cid) == "created", f"{name}: state says created", str(shim.status(cid)))
    r = shim.verb("start", cid)
    c.check(r.returncode == 0, f"{name}: start", r.stderr)
    text = wait_for(lambda: (lambda t: t if "ready" in t else None)(open(out_path).read())) or open(out_path).read()
    c.check(shim.status(cid) == "running", f"{name}: state says running", str(shim.status(cid)))
    for line, what in expect:
        # "WORD !0": the guest's command failed (dash says 1 or 2, depending on where).
        got = text.splitlines()
        ok = any(l.startswith(line[:-2]) and l != line[:-2] + "0" for l in got) if line.endswith(" !0") else line in got
        c.check(ok, f"{name}: {what}", repr(text))
    r = shim.verb("kill", cid, "TERM")
    c.check(r.returncode == 0, f"{name}: kill TERM", r.stderr)
    c.check(wait_for(lambda: shim.status(cid) == "stopped"), f"{name}: SIGTERM stopped it", str(shim.status(cid)))
    r = shim.verb("delete", cid)
    c.check(r.returncode == 0 and shim.status(cid) is None, f"{name}: delete", r.stderr)


def refused(c, shim, scratch, name, annotations, where, env=None):
    b = bundle(scratch, name, annotations)
    cfg = os.path.join(b, "config.json")
    before = open(cfg, "rb").read()
    image = sorted(os.listdir(os.path.join(b, "rootfs")))
    cid = f"wwjail-shim-{os.getpid()}-{name}"
    log_size = os.path.getsize(shim.log) if os.path.exists(shim.log) else 0
    r = shim.verb("create", "--bundle", b, "--pid-file", os.path.join(b, "init.pid"), cid, env=env)
    c.check(r.returncode == 1 and where in r.stderr and len(r.stderr.strip().splitlines()) == 1,
            f"{name}: create refused, saying {where!r}", f"exit {r.returncode} {r.stderr!r}")
    log_tail = open(shim.log).read()[log_size:] if os.path.exists(shim.log) else ""
    c.check(any(where in json.loads(l).get("msg", "") for l in log_tail.splitlines() if l.strip()),
            f"{name}: the refusal is in the runtime's --log (where engines read it)", repr(log_tail))
    c.check(open(cfg, "rb").read() == before and sorted(os.listdir(b)) == ["config.json", "rootfs"],
            f"{name}: the bundle is as it was", str(os.listdir(b)))
    c.check(sorted(os.listdir(os.path.join(b, "rootfs"))) == image, f"{name}: the image is as it was (mount points "
            "made for the check are gone)", str(os.listdir(os.path.join(b, "rootfs"))))
    c.check(shim.status(cid) is None and cid not in shim.listed(), f"{name}: no container", str(shim.listed()))


def pass_through(c, shim, scratch):
    mine, theirs = shim.verb("--version"), ctrtest.run(["runc", "--version"])
    c.check(mine.returncode == 0 and mine.stdout == theirs.stdout, "--version is runc's", mine.stdout + mine.stderr)
    r = shim.verb("--wwjail-runtime", "/nonexistent/runtime", "list")
    c.check(r.returncode == 127 and "/nonexistent/runtime" in r.stderr, "--wwjail-runtime chooses the runtime", r.stderr)
    r = ctrtest.run([WRAPPER, "list"], env=dict(os.environ, WWJAIL_RUNTIME="/bin/echo"))
    c.check(r.returncode == 0 and r.stdout == "list\n", "WWJAIL_RUNTIME chooses the runtime", r.stdout + r.stderr)
    crun = ctrtest.shutil.which("crun")
    if not crun:
        print("note: crun is not installed: a container under crun is not exercised", flush=True)
        return
    state = os.path.join(scratch.path, "crun-state")
    plain = os.path.join(scratch.path, "crun-plain")
    ctrtest.make_bundle(plain, ["/bin/true"])
    r = ctrtest.run([crun, "--root", state, "run", "--bundle", plain, f"wwjail-crun-plain-{os.getpid()}"])
    ctrtest.run([crun, "--root", state, "delete", "--force", f"wwjail-crun-plain-{os.getpid()}"])
    if r.returncode != 0:
        print(f"note: crun cannot run a plain container here ({r.stderr.strip()}): a container under crun is "
              "not exercised", flush=True)
        return
    b = os.path.join(scratch.path, "crun")
    ctrtest.make_bundle(b, ["/bin/sh", "-c", "cat /etc/hostname; exit 3"])
    cid = f"wwjail-crun-{os.getpid()}"
    r = ctrtest.run([WRAPPER, "--root", state, "run", "--bundle", b, cid], env=dict(os.environ, WWJAIL_RUNTIME=crun))
    ctrtest.run([crun, "--root", state, "delete", "--force", cid])
    c.check(r.returncode == 3 and r.stdout.strip() == open("/etc/hostname").read().strip(),
            "WWJAIL_RUNTIME=crun: run goes to crun, jailed, its status passed through",
            f"exit {r.returncode} {r.stdout!r} {r.stderr!r}")


def wrapped(b):
    with open(os.path.join(b, "config.json")) as f:
        return under_wwjail(json.load(f)["process"]["args"]) is not None


def flag_spellings(c, scratch):
    """A2: runc reads Go-style options (-log F, -bundle D, -b=D, --root=R); wwjail-runc reads them the same way
    and wraps the bundle runc runs, never another; an option it does not know is refused, nothing run."""
    state, log = os.path.join(scratch.path, "spell-state"), os.path.join(scratch.path, "spell-log")
    decoy = os.path.join(scratch.path, "spell-decoy")
    ctrtest.make_bundle(decoy, ["/bin/true"])
    guest = ["/bin/sh", "-c", 'echo x > /dev/shm/outside; echo "outside $?"']
    spellings = {"dash-log": ["-log", log, "run", "-b", "{b}"], "dash-bundle": ["run", "-bundle", "{b}"],
                 "eq-bundle": ["--root=" + state, "-log=" + log, "run", "-b={b}"],
                 "control": ["--log", log, "run", "--bundle", "{b}"]}
    for n, (name, argv) in enumerate(spellings.items()):
        b = os.path.join(scratch.path, "spell-" + name)
        ctrtest.make_bundle(b, guest)
        cid = f"wwjail-spell-{os.getpid()}-{n}"
        cmd = [WRAPPER, *[a.replace("{b}", b) for a in argv], cid]
        if "--root=" + state not in cmd:
            cmd[1:1] = ["-root", state]
        r = ctrtest.run(cmd, cwd=decoy)
        ctrtest.run(["runc", "--root", state, "delete", "--force", cid])
        c.check(r.returncode != 0 and "outside 0" not in r.stdout or "outside 0" not in r.stdout and wrapped(b),
                f"{name}: {' '.join(argv)}: the bundle runc runs is wrapped, its write outside denied",
                f"exit {r.returncode} {r.stdout!r} {r.stderr!r}")
        c.check(not wrapped(decoy), f"{name}: the cwd's bundle is not the one rewritten", "")
    b = os.path.join(scratch.path, "spell-unknown")
    ctrtest.make_bundle(b, guest)
    before = open(os.path.join(b, "config.json"), "rb").read()
    r = ctrtest.run([WRAPPER, "-root", state, "run", "-no-such-option", "-b", b, f"wwjail-spell-{os.getpid()}-x"])
    c.check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "outside" not in r.stdout and
            open(os.path.join(b, "config.json"), "rb").read() == before,
            "an option of run wwjail-runc does not know: refused in one line, nothing run", f"{r.returncode} {r.stderr!r}")
    r = ctrtest.run([WRAPPER, "-no-such-global", "run", "-b", b, f"wwjail-spell-{os.getpid()}-y"])
    c.check(r.returncode == 1 and "outside" not in r.stdout, "an unknown global option: refused, nothing run",
            f"{r.returncode} {r.stderr!r}")


EVIL_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void) {
  char self[256] = {0}, line[300];
  readlink("/proc/self/exe", self, sizeof self - 1);
  int fd = open("/mnt/rw/pwned", O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0 && write(fd, line, snprintf(line, sizeof line, "%s\n", self)) < 0) close(fd);
}
"""


def preload_escape(c, scratch):
    """A1: the image's LD_PRELOAD (process.env, a Dockerfile ENV) and its /etc/ld.so.preload are never loaded into
    wwjail itself (which runs before any sandbox): its constructor, run only inside the guest, is denied the write
    the default policy does not grant. Control: the same bundle under plain runc writes it."""
    gcc = ctrtest.shutil.which("gcc") or ctrtest.shutil.which("cc")
    if not gcc:
        print("note: no C compiler: the preload escape is not exercised", flush=True)
        return
    so = os.path.join(scratch.path, "evil.so")
    src = os.path.join(scratch.path, "evil.c")
    with open(src, "w") as f:
        f.write(EVIL_C)
    r = ctrtest.run([gcc, "-shared", "-fPIC", "-o", so, src])
    if not c.check(r.returncode == 0, "evil.so builds", r.stderr):
        return
    state = os.path.join(scratch.path, "preload-state")
    for name in ("env", "file"):
        for runtime in ("runc", WRAPPER):
            rw = os.path.join(scratch.path, f"preload-rw-{name}-{os.path.basename(runtime)}")
            os.makedirs(rw)
            b = os.path.join(scratch.path, f"preload-{name}-{os.path.basename(runtime)}")
            config = ctrtest.make_bundle(b, ["/bin/true"], env=["LD_PRELOAD=/opt/evil.so"] if name == "env" else None)
            rootfs = os.path.join(b, "rootfs")
            os.makedirs(os.path.join(rootfs, "opt"))
            os.makedirs(os.path.join(rootfs, "mnt/rw"))
            ctrtest.shutil.copy(so, os.path.join(rootfs, "opt/evil.so"))
            if name == "file":  # the image's own /etc, not the host's, with an ld.so.preload
                config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/etc"]
                os.makedirs(os.path.join(rootfs, "etc"))
                with open(os.path.join(rootfs, "etc/ld.so.preload"), "w") as f:
                    f.write("/opt/evil.so\n")
            config["mounts"].append({"destination": "/mnt/rw", "type": "bind", "source": rw, "options": ["bind", "rw"]})
            with open(os.path.join(b, "config.json"), "w") as f:
                json.dump(config, f, indent=1)
            cid = f"wwjail-preload-{os.getpid()}-{name}-{os.path.basename(runtime)}"
            r = ctrtest.run([runtime, "--root", state, "run", "--bundle", b, cid])
            ctrtest.run(["runc", "--root", state, "delete", "--force", cid])
            pwned = os.path.join(rw, "pwned")
            got = open(pwned).read() if os.path.exists(pwned) else ""
            if runtime == "runc":
                c.check(got != "", f"preload-{name}: control: plain runc loads the image's preload", repr(r.stderr))
            else:
                c.check(r.returncode == 0 and got == "", f"preload-{name}: wwjail-runc loads no image preload into "
                        "wwjail, and the guest's copy is denied the write", f"exit {r.returncode} {got!r} {r.stderr!r}")


def main():
    runc = ctrtest.require_root_and("runc")
    scratch = ctrtest.Scratch("wwjail-runc-shim.")
    why = ctrtest.runc_works(runc, scratch)
    if why:
        ctrtest.skip(f"runc cannot run a plain container here: {why}")
    ctrtest.announce_profile()
    c = ctrtest.Checks("wwjail_runc")
    policy_dir = os.path.join(scratch.path, "policies")
    os.makedirs(policy_dir)
    with open(os.path.join(policy_dir, "app.toml"), "w") as f:
        f.write(POLICY)
    with open(os.path.join(scratch.path, "elsewhere.toml"), "w") as f:
        f.write(POLICY)
    # Inline policy annotations are the node admin's opt-in (A5b): this shim trusts them, `untrusted` does not.
    shim = Shim(scratch, {"WWJAIL_POLICY_DIR": policy_dir, "WWJAIL_RUNC_TRUST_INLINE_POLICY": "1"})
    untrusted = Shim(scratch, {"WWJAIL_POLICY_DIR": policy_dir})
    host_name = open("/etc/hostname").read().strip()
    granted = [(host_name, "a granted read is allowed"), ("shadow !0", "an ungranted read is denied"),
               ("outside !0", "a write outside the temp dir is denied"), ("inside 0", "the temp dir is writable")]
    lifecycle(c, shim, scratch, "inline", {"org.wwjail.policy": POLICY}, granted)
    lifecycle(c, untrusted, scratch, "file", {"org.wwjail.policy-file": os.path.join(policy_dir, "app.toml")}, granted)
    lifecycle(c, shim, scratch, "default", None,
              [(host_name, "default policy: the image is readable"), ("outside !0", "default policy: no write outside"),
               ("inside 0", "default policy: the temp dir is writable")])
    # A5a: a pod-sandbox annotation (an image can carry one through Podman) does not switch wwjail off.
    for key in ("io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"):
        lifecycle(c, shim, scratch, "sandbox-" + key.split(".")[-1], {key: "sandbox"},
                  [("outside !0", f"{key}=sandbox: still wrapped, no write outside")])
    # A5b: an inline policy (an image's own, through Podman) without the admin's trust is refused.
    refused(c, untrusted, scratch, "untrusted-inline", {"org.wwjail.policy": POLICY}, "trust_inline_policy")
    flag_spellings(c, scratch)
    preload_escape(c, scratch)
    refused(c, shim, scratch, "bad-inline", {"org.wwjail.policy": BAD_POLICY}, "annotation org.wwjail.policy:3:9")
    refused(c, shim, scratch, "outside-dir", {"org.wwjail.policy-file": os.path.join(scratch.path, "elsewhere.toml")},
            "not under")
    refused(c, shim, scratch, "both", {"org.wwjail.policy": POLICY,
                                       "org.wwjail.policy-file": os.path.join(policy_dir, "app.toml")}, "give one of them")
    # The check reads the policy in the container's file system: a host file
    # the container does not see cannot be included (nor granted).
    secret = os.path.join(scratch.path, "host-only.toml")
    with open(secret, "w") as f:
        f.write(POLICY)
    refused(c, shim, scratch, "host-include", {"org.wwjail.policy": f'include = ["{secret}"]\n'},
            "org.wwjail.policy:1:12: included file")
    refused(c, shim, scratch, "host-path", {"org.wwjail.policy": f'[storage]\nread = ["{secret}"]\n'},
            "org.wwjail.policy:2:9: read path")
    pass_through(c, shim, scratch)
    c.check(shim.listed() == [], "no container left in runc list", str(shim.listed()))
    c.done()


if __name__ == "__main__":
    main()
