#!/bin/bash
# run.sh - the test runner behind `make check`.
#   tests/run.sh [unit|fuzz-replay|install|lab-test]...   (default: all four)
# B= the build directory (build or build/asan).  Prints each suite's own
# summary (cmocka's, the lab's) and a final "N passed, M failed" line.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
B="${B:-build}"
passed=0 failed=0
failures=()

count() {   # <passed> <failed> <label>
	passed=$((passed + $1)); failed=$((failed + $2))
	[ "$2" -gt 0 ] && failures+=("$3")
	return 0
}

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)..."
# once per group; a binary may run several groups, so sum them all.  Lines
# a test prints starting with "# " are figures meant for this output (e.g.
# test_nl's netlink latencies) and are shown too.
sum_tests() {   # <PASSED|FAILED>: the sum of that word's counts on stdin
	sed -n "s/^\[  $1  \] \([0-9]*\) test.*/\1/p" | awk '{ s += $1 } END { print s + 0 }'
}

run_unit() {
	local t out p f rc
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		echo "== unit: ${t##*/}"
		out=$(timeout 300 "$t" 2>&1); rc=$?
		echo "$out" | grep -E '^\[ *(PASSED|FAILED|SKIPPED) *\]|^\[ *(ERROR|LINE) *\]|ERROR:|FAILED TEST|^# ' || true
		p=$(echo "$out" | sum_tests PASSED)
		f=$(echo "$out" | sum_tests FAILED)
		# any FAILED line fails the binary, counted or not
		[ "$f" -eq 0 ] && echo "$out" | grep -q '^\[  FAILED  \]' && f=1
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

# `make install DESTDIR= PREFIX=` into a temp dir: exactly the expected
# files and directories land under DESTDIR, with their modes, and the
# installed binaries run.
install_expected() {   # PREFIX: "path mode" of everything, sorted
	local c d p=""
	for d in ${1//\// }; do p=$p/$d; echo "$p 755"; done
	for d in bin sbin share share/doc share/doc/mobility share/doc/mobility/examples; do
		echo "$1/$d 755"
	done
	printf '%s 755\n' "$1/bin/mobctl" "$1/sbin/mipd" "$1/sbin/mobiked"
	for c in conf/*.conf; do
		echo "$1/share/doc/mobility/examples/${c##*/} 644"
	done
}

install_check() {   # DESCRIPTION CMD...: CMD's output shown on failure
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "ok - $desc"; ip=$((ip + 1))
	else
		echo "not ok - $desc"; echo "$out" | tail -8 | sed 's/^/#   /'; if=$((if + 1))
	fi
}

run_install() {
	local d prefix=/opt/mobility got want ip=0 if=0
	echo "== install: make install DESTDIR=<tmp> PREFIX=$prefix"
	d=$(mktemp -d /tmp/install-check.XXXXXX)
	install_check "make install exits 0" \
		make --no-print-directory -s install B="$B" DESTDIR="$d" PREFIX="$prefix"
	got=$(cd "$d" && find . -mindepth 1 -printf '/%P %m\n' | sort)
	want=$(install_expected "$prefix" | sort)
	same_tree() {
		[ "$got" = "$want" ] && return 0
		echo "- expected, + installed:"
		diff <(echo "$want") <(echo "$got") | sed -n 's/^< /-/p; s/^> /+/p'
		return 1
	}
	install_check "exactly the 3 binaries (755), $(echo "$want" | grep -c ' 644$') example configs (644) and their directories (755) under DESTDIR$prefix" same_tree
	runs() {
		"$d$prefix/sbin/mobiked" -V && "$d$prefix/sbin/mipd" -V &&
			"$d$prefix/bin/mobctl" -h >/dev/null
	}
	install_check "the installed binaries run (mobiked -V, mipd -V, mobctl -h)" runs
	rm -rf "$d"
	echo "$ip passed, $if failed"
	count "$ip" "$if" install
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

[ $# -eq 0 ] && set -- unit fuzz-replay install lab-test
for suite in "$@"; do
	case "$suite" in
	unit) run_unit ;;
	fuzz-replay) run_fuzz_replay ;;
	install) run_install ;;
	lab-test) run_lab ;;
	*) echo "run.sh: unknown suite '$suite' (unit, fuzz-replay, install, lab-test)" >&2; exit 2 ;;
	esac
done
[ "${#failures[@]}" -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
