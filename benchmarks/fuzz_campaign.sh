#!/usr/bin/env bash
# A fuzzing campaign over runtime_micro: every libFuzzer harness, one after the other (one
# process each: the machine is shared), SECONDS each, from the generated seed corpus
# (tests/helpers/fuzz_seeds.py). Prints per harness: executions, coverage (cov / ft from
# libFuzzer's last status line), crashes (0, or the crash/leak/timeout/oom files).
#
#   bash benchmarks/fuzz_campaign.sh [SECONDS]          # default 600 per harness
#   HARNESSES="fuzz_model_structured" bash benchmarks/fuzz_campaign.sh 60
#   FUZZ_WORK=/tmp/campaign PYTHON=.venv/bin/python bash benchmarks/fuzz_campaign.sh 1800
#   FUZZ_RUNS=1000000 bash benchmarks/fuzz_campaign.sh 5400   # stop each at 1 M executions
#
# A FUZZ_WORK folder that already holds seeds/ and corpus-*/ continues from those corpora.
# Needs clang with libFuzzer (apt-get install clang libclang-rt-14-dev). Exit status 1 when
# any harness found a crash; the work folder (corpora, logs, artifacts) is kept and printed.
set -euo pipefail

SECONDS_EACH="${1:-600}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
HARNESSES="${HARNESSES:-fuzz_model fuzz_model_structured}"
WORK="${FUZZ_WORK:-$(mktemp -d /tmp/edgelite-fuzz.XXXXXX)}"
RUNS="${FUZZ_RUNS:--1}"  # libFuzzer's -runs: -1 is unlimited
MAX_LEN=1048576  # MediaPipe's sparse face detector (677 kB) is a seed

make -s -C "$REPO/runtime_micro" fuzz >/dev/null
mkdir -p "$WORK"
if [ ! -d "$WORK/seeds" ]; then
  PYTHONPATH="$REPO/src:$REPO/tests" "$PYTHON" -m helpers.fuzz_seeds "$WORK/seeds"
fi

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  seconds per harness: $SECONDS_EACH  work: $WORK"
printf '%-24s %12s %8s %10s %8s  %s\n' harness executions exec/s cov ft crashes
found=0
for h in $HARNESSES; do
  bin="$REPO/runtime_micro/build/fuzz/$h"
  corpus="$WORK/corpus-$h"
  art="$WORK/artifacts-$h"
  log="$WORK/$h.log"
  mkdir -p "$corpus" "$art"
  rc=0
  "$bin" -max_total_time="$SECONDS_EACH" -runs="$RUNS" -max_len=$MAX_LEN -rss_limit_mb=2048 -timeout=30 \
    -print_final_stats=1 -artifact_prefix="$art/" "$corpus" "$WORK/seeds" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
              -o -name 'oom-*' \) | sort | tr '\n' ' ')
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
    crashes="$crashes(sanitizer report in $log)"
  fi
  if [ -n "$crashes" ] || [ "$rc" -ne 0 ]; then
    found=1
    [ -n "$crashes" ] || crashes="(exit $rc, see $log)"
  else
    crashes=0
  fi
  printf '%-24s %12s %8s %10s %8s  %s\n' "$h" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
done
exit $found
