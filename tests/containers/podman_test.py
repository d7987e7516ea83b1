#!/usr/bin/env python3
"""podman run --runtime wwjail-runc on an image made here by `podman import`
of a directory (no registry, --network none): a policy annotation with an
allowed and a denied access and the exit status passed through, a bad
policy refused at create with its place, and nothing left behind (no
container in `podman ps -a`, no policy file, no storage outside the scratch
dir). Podman runs with its own storage under a scratch dir (vfs driver,
cgroupfs), and with its stock seccomp profile.

Usage: podman_test.py BUILD_DIR
"""
import os
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrtest  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
WRAPPER = os.path.join(BUILD, "wwjail-runc")
TRUSTING = WRAPPER  # main() sets the runtime that trusts inline policies
IMAGE = "localhost/wwjail-test-skeleton:%d" % os.getpid()
POLICY = '[storage]\nread = ["/etc/hostname"]\nexec = ["/usr/bin"]\n'
BAD_POLICY = '[storage]\nread = "/etc/hostname"\n'


def annotation(key, value):
    """podman reads --annotation as CSV: quoted, a value may hold newlines, commas and (doubled) quotes."""
    return '"' + f"{key}={value}".replace('"', '""') + '"'


class Podman:
    def __init__(self, podman, scratch):
        s = scratch.path
        self.base = [podman, "--root", f"{s}/storage", "--runroot", f"{s}/run", "--tmpdir", f"{s}/libpod",
                     "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        scratch.on_exit(self.remove_all)

    def __call__(self, *args, timeout=90):
        return ctrtest.run(self.base + list(args), timeout=timeout)

    def remove_all(self):
        self("rm", "--all", "--force")
        self("rmi", "--all", "--force")

    def containers(self):
        return self("ps", "--all", "--quiet").stdout.split()


def skeleton_image(pm, scratch):
    """An image of empty mount points and the host's /bin -> usr/bin style links."""
    root = os.path.join(scratch.path, "skeleton")
    for d in ("usr", "etc", "proc", "sys", "dev", "tmp", "run"):
        os.makedirs(os.path.join(root, d))
    for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(link):
            os.symlink(os.readlink(link), root + link)
    tar = os.path.join(scratch.path, "skeleton.tar")
    with tarfile.open(tar, "w") as t:
        t.add(root, arcname=".")
    return pm("import", tar, IMAGE)


def run_args(profile, host_dirs=True):
    # Host directories as read-only volumes; limits at or below the host's (no CAP_SYS_RESOURCE needed).
    args = ["run", "--rm", "--runtime", TRUSTING, "--network", "none", "--read-only",
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
    for d in ("/usr", "/etc", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"):
        if host_dirs and os.path.isdir(d) and not os.path.islink(d):
            args += ["-v", f"{d}:{d}:ro"]
    if profile:
        args += ["--security-opt", f"seccomp={profile}"]
    return args


def main():
    podman = ctrtest.require_root_and("podman")
    runc = ctrtest.require_root_and("runc")
    scratch = ctrtest.Scratch("wwjail-podman.")
    # The inline policies below are the node admin's choice here (wwjail-runc(1): trust_inline_policy); conmon
    # gives the runtime an environment of its own, so a script sets it.
    global TRUSTING
    TRUSTING = os.path.join(scratch.path, "wwjail-runc-trusting")
    with open(TRUSTING, "w") as f:
        f.write(f'#!/bin/sh\nWWJAIL_RUNC_TRUST_INLINE_POLICY=1 exec "{WRAPPER}" "$@"\n')
    os.chmod(TRUSTING, 0o755)
    why = ctrtest.runc_works(runc, scratch)
    if why:
        ctrtest.skip(f"runc cannot run a plain container here: {why}")
    ctrtest.announce_profile()
    pm = Podman(podman, scratch)
    r = skeleton_image(pm, scratch)
    if r.returncode != 0:
        ctrtest.skip(f"podman cannot import an image here: {r.stderr.strip().splitlines()[-1:]}")
    base = run_args(None)
    plain = pm(*base[:3], "runc", *base[4:], IMAGE, "/bin/true")
    if plain.returncode != 0:
        ctrtest.skip(f"podman cannot run a plain container here: {plain.stderr.strip()}")
    runc_before = set(ctrtest.run([runc, "list", "-q"]).stdout.split())
    c = ctrtest.Checks("podman")
    host_name = open("/etc/hostname").read().strip()
    guest = "cat /etc/hostname; echo; cat /etc/passwd; echo \"passwd $?\"; exit 9"
    r = pm(*base, "--annotation", annotation("org.wwjail.policy", POLICY), IMAGE, "/bin/sh", "-c", guest)
    lines = r.stdout.splitlines()
    c.check(r.returncode == 9, "the guest's exit status is podman run's", f"exit {r.returncode} {r.stderr!r}")
    c.check(len(lines) >= 1 and lines[0] != "" and "passwd 1" in lines, "the policy applies: granted read, denied read",
            f"{r.stdout!r} {r.stderr!r}")
    c.check(not any(l.startswith("root:") for l in lines), "/etc/passwd was not read", r.stdout)
    r = pm(*base, "--annotation", annotation("org.wwjail.policy", BAD_POLICY), IMAGE, "/bin/true")
    c.check(r.returncode != 0 and "annotation org.wwjail.policy:2:8:" in r.stderr,
            "a bad policy is refused at create, with its place", f"exit {r.returncode} {r.stderr!r}")
    # Without the host's /usr and /lib the image has no loader or C library: wwjail runs on the host's, bound
    # under /.wwjail/lib (the guest, the image's own /bin/true, then fails to start: it is not there).
    r = pm(*run_args(None, host_dirs=False), IMAGE, "/bin/true")
    c.check("the image has no /lib" not in r.stderr and "error while loading shared libraries" not in r.stderr
            and "wwjail" in r.stderr, "an image without a loader of its own still runs the host's wwjail",
            f"exit {r.returncode} {r.stderr!r}")
    c.check(pm.containers() == [], "no container left in podman ps -a", str(pm.containers()))
    # Podman gives runc no --root: its containers would show in runc's default state dir.
    left = sorted(set(ctrtest.run([runc, "list", "-q"]).stdout.split()) - runc_before)
    c.check(left == [], "no container left in runc list", str(left))
    leftovers = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(scratch.path, "storage"))
                 for f in fs if f == "wwjail-policy.toml"]
    c.check(leftovers == [], "no policy file left in podman's storage", str(leftovers))
    c.done()


if __name__ == "__main__":
    main()
