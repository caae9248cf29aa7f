#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every test binary in BUILD_DIR/tests, then the VM tests
# (tests/vm/run.sh BUILD_DIR) when present, pass their kselftest output
# through, and end with exactly one summary line:
#
#   N passed, N failed            or
#   N passed, N failed, N skipped (when anything was skipped)
#
# Counts come from every "# Totals: pass:N fail:N xfail:N xpass:N skip:N
# error:N" line (fail and error are failures; xfail and xpass count as
# passed, as kselftest does).  A program that exits non-zero without a
# failure in its Totals (crashed, killed by the timeout, or never printed
# one) counts as one more failure.  A skip is never a pass.
#
# Usage: tests/run.sh [BUILD_DIR]      (default: build)
# Environment: LYMPH_TEST_TIMEOUT (seconds per test program, default 600),
#              LYMPH_VM_TIMEOUT (seconds for tests/vm/run.sh, default 3600).
# The per-program limit is a backstop: each test has its own, shorter,
# harness timeout (TEST_F_TIMEOUT) that fails it alone if it hangs.  600
# s, not 300: throttle_test's 38 storms take ~285 s on an idle 2-CPU
# host, and were killed at 300 s in a loaded CI run (2026-11-30).
set -uo pipefail

build=${1:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
test_timeout=${LYMPH_TEST_TIMEOUT:-600}
vm_timeout=${LYMPH_VM_TIMEOUT:-3600}

passed=0 failed=0 skipped=0
log=$(mktemp /tmp/lymph-run.XXXXXX)
trap 'rm -f "$log"' EXIT

# run_one NAME TIMEOUT CMD...: run, stream output, add its Totals.
run_one() {
	local name=$1 limit=$2 rc totals bad
	shift 2

	echo "# ---- $name"
	timeout -k 10 "$limit" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}

	# sum: pass fail xfail xpass skip error, over every Totals line
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:\([0-9]*\) skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' "$log" |
		awk '{p+=$1; f+=$2; xf+=$3; xp+=$4; s+=$5; e+=$6; n++}
		     END {printf "%d %d %d %d\n", n, p+xf+xp, f+e, s}')
	read -r nlines p f s <<<"$totals"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))

	bad=""
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		bad="killed after the ${limit} s timeout"
	elif [ "$rc" -ne 0 ] && [ "$nlines" -eq 0 ]; then
		bad="exited with status $rc without a Totals line"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$rc" -ne 4 ]; then
		bad="exited with status $rc although its Totals show no failure"
	elif [ "$rc" -eq 0 ] && [ "$nlines" -eq 0 ]; then
		bad="printed no Totals line"
	fi
	if [ -n "$bad" ]; then
		echo "# FAIL: $name $bad"
		failed=$((failed + 1))
	fi
}

if [ ! -d "$build/tests" ]; then
	echo "# FAIL: $build/tests does not exist: build the tests first (make tests)"
	failed=$((failed + 1))
else
	for t in "$build"/tests/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		run_one "$(basename "$t")" "$test_timeout" "$t"
	done
fi

vm="$top/tests/vm/run.sh"
if [ -x "$vm" ]; then
	run_one "vm" "$vm_timeout" "$vm" "$build"
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
