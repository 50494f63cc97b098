#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a short, bounded time (CI smoke test).
#
#   scripts/fuzz-smoke.sh [BUILD_DIR]          # default build/fuzz (make fuzz)
#
# Each target tests/fuzz/<name>.cc is run from a scratch copy of its checked-in seed corpus
# (tests/fuzz/corpus/<name>/, never modified) with its dictionary if there is one. Targets run
# in parallel, one per core. Exit status is non-zero when any target crashes, leaks, times out,
# runs out of memory or is missing; the crash input and log are kept under
# BUILD_DIR/fuzz-smoke/ and named in the summary.
#
# Environment: FUZZ_SECONDS (default 20) per target, FUZZ_JOBS (default nproc),
#              FUZZ_RSS_MB (2048), FUZZ_MAX_LEN (65536), FUZZ_TIMEOUT_S (10, per input).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build/fuzz}"
seconds="${FUZZ_SECONDS:-20}"
jobs="${FUZZ_JOBS:-$(nproc)}"
rss_mb="${FUZZ_RSS_MB:-2048}"
max_len="${FUZZ_MAX_LEN:-65536}"
timeout_s="${FUZZ_TIMEOUT_S:-10}"

if [ ! -d "$build" ]; then
  echo "fuzz-smoke: no build directory $build (run: make fuzz)" >&2
  exit 2
fi
build="$(cd "$build" && pwd)"
work="$build/fuzz-smoke"
rm -rf "$work"
mkdir -p "$work"

targets=()
for src in "$root"/tests/fuzz/fuzz_*.cc; do
  targets+=("$(basename "$src" .cc)")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz-smoke: no targets in tests/fuzz" >&2
  exit 2
fi

# Runs one target; writes its exit status to $work/<name>.rc.
run_one() {
  local name="$1"
  local bin="$build/tests/fuzz/$name"
  local log="$work/$name.log"
  if [ ! -x "$bin" ]; then
    echo "missing binary $bin" >"$log"
    echo 127 >"$work/$name.rc"
    return
  fi
  local corpus="$work/$name.corpus"
  mkdir -p "$corpus" "$work/$name.artifacts"
  if [ -d "$root/tests/fuzz/corpus/$name" ]; then
    cp "$root/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null || true
  fi
  local args=(
    -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -max_len="$max_len"
    -timeout="$timeout_s" -print_final_stats=1 -artifact_prefix="$work/$name.artifacts/"
  )
  if [ -f "$root/tests/fuzz/$name.dict" ]; then
    args+=(-dict="$root/tests/fuzz/$name.dict")
  fi
  local rc=0
  # Leak checking stays on (ASan's default under libFuzzer); UBSan findings abort.
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    "$bin" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$work/$name.rc"
}

start=$(date +%s)
running=0
for name in "${targets[@]}"; do
  run_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

status=0
for name in "${targets[@]}"; do
  log="$work/$name.log"
  rc="$(cat "$work/$name.rc" 2>/dev/null || echo 1)"
  fstat() { sed -n "s/^stat::$1:[[:space:]]*//p" "$log" | tail -1; }
  runs="$(fstat number_of_executed_units)"
  per_s="$(fstat average_exec_per_sec)"
  rss="$(fstat peak_rss_mb)"
  cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)"
  corpus_n="$(find "$work/$name.corpus" -type f 2>/dev/null | wc -l)"
  if [ "$rc" -eq 0 ]; then
    printf 'fuzz-smoke: %-22s OK    %s runs (%s/s), %s, corpus %s, peak RSS %s MB\n' \
      "$name" "${runs:-?}" "${per_s:-?}" "${cov:-cov: ?}" "$corpus_n" "${rss:-?}"
  else
    status=1
    what="$(grep -m1 -oE '(ERROR|SUMMARY): [A-Za-z]+: [^(]*[^( ]' "$log" \
            || grep -m1 -oE 'runtime error: .*' "$log" || echo "exit $rc")"
    # The first frame in our code that is not a helper names the failed check.
    where="$(grep -E '^ +#[0-9]+ ' "$log" | grep -v 'Check(bool)' \
             | grep -oE '(src|tests/fuzz)/[A-Za-z0-9_/]+\.(cc|h):[0-9]+' | head -1 || true)"
    what="${what#ERROR: }${where:+ at $where}"
    crash="$(ls -1 "$work/$name.artifacts" 2>/dev/null | head -1)"
    printf 'fuzz-smoke: %-22s FAIL  %s; input %s; log %s\n' "$name" "$what" \
      "${crash:+$work/$name.artifacts/$crash}" "$log"
  fi
done
echo "fuzz-smoke: ${#targets[@]} targets, ${seconds}s each, $(( $(date +%s) - start ))s wall"
exit $status
