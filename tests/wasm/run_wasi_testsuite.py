#!/usr/bin/env python3
"""Runs the public WASI testsuite's prebuilt wasm32-wasip1 tests under wwjail.

    run_wasi_testsuite.py WWJAIL SUITE_DIR [-k REGEX] [-v]

SUITE_DIR is a copy of the suite's `prod/testsuite-base` branch (the
WebAssembly/wasi-testsuite project; nothing of it is kept in this repository): every
tests/*/testsuite/wasm32-wasip1/NAME.wasm is run, with NAME.json beside it
when there is one (its legacy keys: args, env, root, exit_code, stdout,
stderr). Each test runs the way the suite's wasmtime adapter runs it: only the
test's own root directory, preopened as "/" (`--write ROOT::/`, on a fresh
copy of it, so a test never sees another's leftovers), its environment and
arguments, and no private temp dir (`--no-tmpdir`). A test passes when the
exit status is the expected one and stdout and stderr begin with what is
expected (the suite's harness reads as many characters as it expects).

Prints one line per failure and a summary; exits 0 when every test passed.
Compiled modules are cached in SUITE_DIR/.wwjail-cache between runs.
"""
import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile


def tests(suite: pathlib.Path):
    for wasm in sorted(suite.glob("tests/*/testsuite/wasm32-wasip1/*.wasm")):
        config = {}
        spec = wasm.with_suffix(".json")
        if spec.exists():
            config = json.loads(spec.read_text())
        yield wasm, config


def run_one(wwjail: str, cache: pathlib.Path, wasm: pathlib.Path, config: dict, timeout: int):
    with tempfile.TemporaryDirectory(prefix="wasi-test.") as scratch:
        argv = [wwjail, "--cache", str(cache), "--no-tmpdir"]
        if config.get("root"):
            root = pathlib.Path(scratch) / "root"
            shutil.copytree(wasm.parent / config["root"], root, symlinks=True)
            argv += ["--write", f"{root}::/"]
        for name, value in config.get("env", {}).items():
            argv += ["--env", f"{name}={value}"]
        argv += ["--", str(wasm)] + list(config.get("args", []))
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return [f"timed out after {timeout} s"], ""
        problems = []
        want = config.get("exit_code", 0)
        if p.returncode != want:
            problems.append(f"exit {p.returncode}, expected {want}")
        for stream, got in (("stdout", p.stdout), ("stderr", p.stderr)):
            expected = config.get(stream)
            if expected is not None and got[: len(expected)] != expected:
                problems.append(f"{stream} {got[:200]!r}, expected {expected!r}")
        return problems, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wwjail")
    ap.add_argument("suite", type=pathlib.Path)
    ap.add_argument("-k", help="run only tests whose path matches this regex")
    ap.add_argument("-v", action="store_true", help="print the stderr of failing tests")
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    cache = args.suite / ".wwjail-cache"
    cache.mkdir(mode=0o700, exist_ok=True)
    passed, failed = 0, []
    for wasm, config in tests(args.suite):
        name = str(wasm.relative_to(args.suite))
        if args.k and not re.search(args.k, name):
            continue
        problems, err = run_one(args.wwjail, cache, wasm, config, args.timeout)
        if problems:
            failed.append(name)
            print(f"FAIL {name}: {'; '.join(problems)}")
            if args.v and err:
                print("  " + err.strip().replace("\n", "\n  "))
        else:
            passed += 1
    total = passed + len(failed)
    print(f"wasi-testsuite (wasm32-wasip1): {passed} of {total} passed")
    if total == 0:
        print("no tests found under", args.suite, file=sys.stderr)
        return 2
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
