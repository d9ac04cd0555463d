#!/bin/bash
# run.sh - the test runner behind `make check`.
#   tests/run.sh [unit|fuzz-replay|lab-test]...   (default: all three)
# B= the build directory (build or build/asan).  Prints each suite's own
# summary (cmocka's, the lab's) and a final "N passed, M failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
B="${B:-build}"
passed=0 failed=0
failures=()

count() {   # <passed> <failed> <label>
	passed=$((passed + $1)); failed=$((failed + $2))
	[ "$2" -gt 0 ] && failures+=("$3")
	return 0
}

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)...".
run_unit() {
	local t out p f rc
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		echo "== unit: ${t##*/}"
		out=$(timeout 300 "$t" 2>&1); rc=$?
		echo "$out" | grep -E '^\[ *(PASSED|FAILED|SKIPPED) *\]|^\[ *(ERROR|LINE) *\]|ERROR:|FAILED TEST' || true
		p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		p=${p:-0} f=${f:-0}
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "$out" | tail -20; f=1; }
		count "$p" "$f" "${t##*/}"
	done
}

run_fuzz_replay() {
	local t name
	for t in "$B"/tests/replay_fuzz_*; do
		[ -x "$t" ] || continue
		name=${t##*/replay_fuzz_}
		echo "== fuzz corpus: $name"
		if timeout 300 "$t" "tests/fuzz/corpus/$name"; then
			count 1 0 "$name"
		else
			count 0 1 "fuzz corpus $name"
		fi
	done
}

run_lab() {
	local t log p f rc
	log=$(mktemp)
	for t in tests/lab/test_*.sh; do
		[ -x "$t" ] || continue
		echo "== lab: ${t##*/}"
		# tee to a file, not /dev/stderr: reopening that truncates a
		# redirected log.
		B="$B" timeout 900 "$t" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		p=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -1)
		p=${p:-0} f=${f:-0}
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
		count "$p" "$f" "${t##*/}"
	done
	rm -f "$log"
}

[ $# -eq 0 ] && set -- unit fuzz-replay lab-test
for suite in "$@"; do
	case "$suite" in
	unit) run_unit ;;
	fuzz-replay) run_fuzz_replay ;;
	lab-test) run_lab ;;
	*) echo "run.sh: unknown suite '$suite' (unit, fuzz-replay, lab-test)" >&2; exit 2 ;;
	esac
done
[ "${#failures[@]}" -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
