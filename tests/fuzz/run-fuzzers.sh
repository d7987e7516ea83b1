#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cc) with clang++ in a build
# directory of their own and runs each for WWJAIL_FUZZ_SECONDS (default 60),
# starting from a seed corpus made of the policies in tests/golden, examples
# and policy/profiles (and the *.seeds lists here). Without clang++ it says
# so and exits 0. A crash, a sanitizer report or a leak fails the run; the
# input that caused it is left in BUILD/fuzz/artifacts/ and its path printed.
#   WWJAIL_FUZZ_BUILD_DIR   the build directory (default TOP/build-fuzz)
#   WWJAIL_FUZZ_SECONDS     seconds per target (default 60)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${WWJAIL_FUZZ_BUILD_DIR:-$top/build-fuzz}
seconds=${WWJAIL_FUZZ_SECONDS:-60}

cxx=$(command -v clang++-14 || command -v clang++ || true)
cc=$(command -v clang-14 || command -v clang || true)
if [[ -z $cxx || -z $cc ]]; then
  echo "run-fuzzers: clang++ not found; the libFuzzer targets were not built or run (install clang-14 and libclang-rt-14-dev)"
  exit 0
fi

cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DWWJAIL_BUILD_FUZZERS=ON -DWWJAIL_BUILD_TESTS=OFF -DWWJAIL_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target wwjail_fuzzers -j"$(nproc)"

fuzz=$build/fuzz
rm -rf "$fuzz/seeds"
mkdir -p "$fuzz/seeds/policy_file" "$fuzz/seeds/net_spec" "$fuzz/seeds/path_text" "$fuzz/artifacts"
# Seeds: every shipped policy whole; every quoted string in them as a SPEC
# and as a path; the hand-written lists.
mapfile -t policies < <(find "$top/tests/golden" "$top/examples" "$top/policy/profiles" -name '*.toml' | sort)
i=0
for p in "${policies[@]}"; do
  cp "$p" "$fuzz/seeds/policy_file/$((i++))-$(basename "$p")"
done
# Inputs the fuzzers found once (tests/fuzz/regressions/TARGET-*), kept as seeds.
for r in "$top"/tests/fuzz/regressions/*; do
  [[ -f $r ]] && cp "$r" "$fuzz/seeds/$(basename "$r" | sed 's/-.*//')/"
done
seed_lines() {  # seed_lines DIR < lines: one seed file per line
  local n=0 line
  while IFS= read -r line; do printf '%s' "$line" >"$1/$((n++))"; done
}
{ grep -ohE '"[^"]*"' "${policies[@]}" | tr -d '"'; cat "$top/tests/fuzz/net_spec.seeds"; } | sort -u |
  seed_lines "$fuzz/seeds/net_spec"
{ grep -ohE '"[^"]*"' "${policies[@]}" | tr -d '"'; cat "$top/tests/fuzz/path_text.seeds"; } | sort -u |
  seed_lines "$fuzz/seeds/path_text"

passed=0 failed=0
for name in policy_file net_spec path_text; do
  corpus=$fuzz/corpus/$name  # grows across runs in the same build dir
  mkdir -p "$corpus"
  dict=()
  [[ -f $top/tests/fuzz/${name%_file}.dict ]] && dict=(-dict="$top/tests/fuzz/${name%_file}.dict")
  log=$fuzz/$name.log
  echo "run-fuzzers: fuzz_$name for ${seconds}s"
  if "$fuzz/fuzz_$name" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$fuzz/artifacts/$name-" "$corpus" "$fuzz/seeds/$name" >"$log" 2>&1; then
    # The last status line (execs, coverage, corpus) and the final counts.
    grep -E '^#[0-9]+' "$log" | tail -1 | sed "s/^/run-fuzzers: fuzz_$name: /"
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | sed "s/^/run-fuzzers: fuzz_$name: /"
    passed=$((passed + 1))
  else
    echo "run-fuzzers: fuzz_$name FAILED; the end of $log:"
    tail -40 "$log"
    failed=$((failed + 1))
  fi
done
echo "fuzzers: $passed passed, $failed failed"
((failed == 0))
