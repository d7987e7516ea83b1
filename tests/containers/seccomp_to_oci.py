#!/usr/bin/env python3
"""Converts a containers-common seccomp profile (/usr/share/containers/seccomp.json,
the format Podman, Docker and CRI-O read) into the `linux.seccomp` object of an
OCI config.json, applying the profile's conditions the way Podman does when it
builds a container's config:

  * architectures: the native one and its sub-architectures from archMap;
  * a rule is kept when its includes.arches (if any) names the native Go
    architecture and its excludes.arches does not;
  * includes.caps: kept only when every capability named is in the
    container's bounding set; excludes.caps: dropped when any of them is;
  * includes.minKernel: kept only on that kernel or a newer one.

Nothing is added to the profile. Usage (as a program):
  seccomp_to_oci.py PROFILE CONFIG.json   # rewrites CONFIG.json's linux.seccomp in place
"""
import json
import os
import platform
import sys

# Go's names for the machine (what a profile's "arches" lists use) and libseccomp's.
_MACHINES = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"),
    "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"),
    "s390x": ("s390x", "SCMP_ARCH_S390X"),
}


def _kernel_at_least(version, running):
    def parts(v):
        out = []
        for p in v.split("-")[0].split(".")[:3]:
            digits = "".join(c for c in p if c.isdigit())
            out.append(int(digits or 0))
        return out
    return parts(running) >= parts(version)


def _kept(rule, go_arch, bounding, kernel):
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if exc.get("arches") and go_arch in exc["arches"]:
        return False
    if inc.get("arches") and go_arch not in inc["arches"]:
        return False
    if inc.get("minKernel") and not _kernel_at_least(inc["minKernel"], kernel):
        return False
    if any(c in bounding for c in exc.get("caps") or []):
        return False
    if any(c not in bounding for c in inc.get("caps") or []):
        return False
    return True


def convert(profile, bounding, machine=None, kernel=None):
    machine = machine or platform.machine()
    kernel = kernel or os.uname().release
    go_arch, scmp_arch = _MACHINES[machine]
    out = {"defaultAction": profile["defaultAction"], "architectures": [], "syscalls": []}
    if "defaultErrnoRet" in profile:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    for entry in profile.get("archMap") or []:
        if entry["architecture"] == scmp_arch:
            out["architectures"] += [entry["architecture"]] + list(entry.get("subArchitectures") or [])
    for rule in profile.get("syscalls") or []:
        if not _kept(rule, go_arch, set(bounding), kernel):
            continue
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        oci = {"names": names, "action": rule["action"]}
        if rule.get("args"):
            oci["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a} for a in rule["args"]]
        if rule.get("errnoRet") is not None:
            oci["errnoRet"] = rule["errnoRet"]
        out["syscalls"].append(oci)
    return out


def main():
    profile_path, config_path = sys.argv[1], sys.argv[2]
    with open(profile_path) as f:
        profile = json.load(f)
    with open(config_path) as f:
        config = json.load(f)
    bounding = config["process"].get("capabilities", {}).get("bounding", [])
    config.setdefault("linux", {})["seccomp"] = convert(profile, bounding)
    with open(config_path, "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":
    main()
