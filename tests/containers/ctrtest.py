"""Shared pieces of the container tests: a scratch directory removed on any
exit (SIGTERM and SIGINT included), OCI bundles built from the host's own
directories, checks that report and go on, and the skip rule.

A test skips (exit 77, one line saying why) only when the runtime cannot run
a container here at all: not root, no runc, or runc failing on a container
without wwjail. Anything else that fails is a failure.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import seccomp_to_oci

SKIP = 77
STOCK_PROFILE = "/usr/share/containers/seccomp.json"
# The capabilities Podman 4 gives a container by default (containers.conf
# default_capabilities): root holds them, any other user has them only in
# its bounding set. runc spec's own three (no CAP_SETPCAP, so root cannot
# shrink its bounding set) are kept where a test asks for runc_caps.
PODMAN_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
               "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]


def podman_capabilities(uid):
    held = PODMAN_CAPS if uid == 0 else []
    return {"bounding": PODMAN_CAPS, "effective": held, "permitted": held, "inheritable": [], "ambient": []}


def skip(why):
    print(f"SKIP: {why}", flush=True)
    sys.exit(SKIP)


def run(cmd, timeout=60, **kw):
    """Runs cmd, returns CompletedProcess with text stdout/stderr; never raises on status."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)


class Checks:
    def __init__(self, name):
        self.name, self.failed, self.passed = name, [], 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"FAIL {what}\n     {detail}".rstrip(), flush=True)
        return ok

    def done(self):
        print(f"{self.name}: {self.passed} passed, {len(self.failed)} failed", flush=True)
        sys.exit(1 if self.failed else 0)


class Scratch:
    """A temp dir and cleanup actions, run in reverse order on any exit."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        os.chmod(self.path, 0o755)  # the uid-1000 runs read files below it
        self._undo = [lambda: shutil.rmtree(self.path, ignore_errors=True), self._unmount_below]
        atexit.register(self.cleanup)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, lambda *_: sys.exit(1))

    def _unmount_below(self):
        """Whatever an engine left mounted under the scratch dir (shm, overlay), deepest first."""
        with open("/proc/self/mounts") as f:
            points = [line.split()[1] for line in f]
        for m in sorted((p for p in points if p.startswith(self.path + "/")), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)

    def on_exit(self, fn):
        self._undo.append(fn)

    def cleanup(self):
        while self._undo:
            try:
                self._undo.pop()()
            except Exception as e:  # cleanup goes on
                print(f"cleanup: {e}", file=sys.stderr)


def require_root_and(program):
    if os.geteuid() != 0:
        skip("needs root (runs containers as root and as uid 1000)")
    path = shutil.which(program)
    if not path:
        skip(f"{program} is not installed (.ci/install-deps installs it)")
    return path


def host_mounts(paths):
    """Read-only bind mounts of host directories, and the symlinks (/bin -> usr/bin) to copy."""
    mounts, links = [], {}
    for p in paths:
        if os.path.islink(p):
            links[p] = os.readlink(p)
        elif os.path.isdir(p):
            mounts.append({"destination": p, "type": "bind", "source": p,
                           "options": ["rbind", "ro", "nosuid", "nodev"]})
    return mounts, links


def seccomp_for(config, profile_path=STOCK_PROFILE):
    with open(profile_path) as f:
        profile = json.load(f)
    bounding = config["process"]["capabilities"]["bounding"]
    return seccomp_to_oci.convert(profile, bounding)


def announce_profile():
    print(f"profile: {STOCK_PROFILE} as shipped, converted as Podman converts it", flush=True)


def make_bundle(bundle, args, extra_binds=(), uid=0, tmp=False, shm=True, env=None, runc="runc", runc_caps=False):
    """An OCI bundle whose root is an empty read-only directory with the host's
    /usr, /etc, /lib* bound read-only (and extra_binds), the stock seccomp
    profile, and process.args = args. No /tmp unless tmp; /dev/shm unless not shm."""
    os.makedirs(bundle)
    r = run([runc, "spec", "--bundle", bundle])
    if r.returncode != 0:
        raise RuntimeError(f"runc spec: {r.stderr}")
    with open(os.path.join(bundle, "config.json")) as f:
        config = json.load(f)
    rootfs = os.path.join(bundle, "rootfs")
    os.makedirs(rootfs)
    mounts, links = host_mounts(["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"])
    for src in extra_binds:
        mounts.append({"destination": src, "type": "bind", "source": src, "options": ["rbind", "ro", "nosuid", "nodev"]})
    for name, target in links.items():
        os.symlink(target, rootfs + name)
    if not shm:
        config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/dev/shm"]
    if tmp:
        mounts.append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]})
    config["mounts"] += mounts
    config["root"] = {"path": "rootfs", "readonly": True}
    p = config["process"]
    p["terminal"] = False
    p["args"] = list(args)
    p["user"] = {"uid": uid, "gid": uid}
    if not runc_caps:
        p["capabilities"] = podman_capabilities(uid)
    if env:
        p["env"] = p["env"] + list(env)
    # The host's nofile limit, not runc's default 1024 above it (no CAP_SYS_RESOURCE needed).
    p.pop("rlimits", None)
    config["linux"]["seccomp"] = seccomp_for(config)
    config["hostname"] = "wwjail-test"
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    return config


def runc_works(runc, scratch):
    """None when runc runs a plain container (no wwjail) here; else why not."""
    b = os.path.join(scratch.path, "probe-bundle")
    make_bundle(b, ["/bin/true"])
    root = os.path.join(scratch.path, "probe-state")
    r = run([runc, "--root", root, "run", "--bundle", b, "wwjail-probe-%d" % os.getpid()])
    run([runc, "--root", root, "delete", "--force", "wwjail-probe-%d" % os.getpid()])
    shutil.rmtree(b, ignore_errors=True)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
