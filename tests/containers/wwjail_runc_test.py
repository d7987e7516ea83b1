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
    c.check(args[:4] == ["/.wwjail/wwjail", "--policy", "/.wwjail/policy.toml", "--"] and args[4] == "/bin/sh",
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
    shim = Shim(scratch, {"WWJAIL_POLICY_DIR": policy_dir})
    host_name = open("/etc/hostname").read().strip()
    granted = [(host_name, "a granted read is allowed"), ("shadow !0", "an ungranted read is denied"),
               ("outside !0", "a write outside the temp dir is denied"), ("inside 0", "the temp dir is writable")]
    lifecycle(c, shim, scratch, "inline", {"org.wwjail.policy": POLICY}, granted)
    lifecycle(c, shim, scratch, "file", {"org.wwjail.policy-file": os.path.join(policy_dir, "app.toml")}, granted)
    lifecycle(c, shim, scratch, "default", None,
              [(host_name, "default policy: the image is readable"), ("outside !0", "default policy: no write outside"),
               ("inside 0", "default policy: the temp dir is writable")])
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
