#!/usr/bin/env bash
# Fetches SQLite's amalgamation (sqlite3.c, sqlite3.h) into DIR for the
# WebAssembly benchmark, from the npm registry (better-sqlite3 ships it).
# Nothing fetched is committed. Exits 0 with a note when the registry is
# unreachable: the benchmark then runs without its SQLite row.
set -euo pipefail
dir=${1:?usage: fetch_sqlite.sh DIR}
[[ -f $dir/sqlite3.c && -f $dir/sqlite3.h ]] && exit 0
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && timeout 120 npm pack --silent better-sqlite3@11.10.0 >/dev/null 2>&1); then
  echo "fetch_sqlite: npm registry unreachable; the SQLite benchmark is skipped" >&2
  exit 0
fi
tar -xzf "$work"/better-sqlite3-*.tgz -C "$work" package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h
mv "$work"/package/deps/sqlite3/sqlite3.c "$work"/package/deps/sqlite3/sqlite3.h "$dir"/
