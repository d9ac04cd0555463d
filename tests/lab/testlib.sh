# shellcheck shell=bash
# testlib.sh - the lab tests' harness.  Sourced first by every test_*.sh;
# sources lablib.sh (lab, in_ns, wait_for, ...: see there) and gone.sh (the
# after-teardown assertions).  Report lines go to fd 3, the real stdout: a
# check's command runs with its output redirected, and a trap may fire then.
#   test_start           fd 3, the EXIT/INT/TERM traps; stops unless root
#   need_built BIN...    stop unless $B/BIN... are built
#   stop_test REASON     nothing to tear down yet: "not ok - REASON" (and
#                        the tail of $CHECK_OUT), the summary, exit
#   check DESC CMD...    run CMD (output into $CHECK_OUT): "ok - DESC" or
#                        "not ok - DESC" and the tail of that output; returns
#                        CMD's success
#   ok DESC, not_ok DESC count a check whose result the caller has
#   say TEXT, note TEXT  a report line; note makes it a "# TEXT" comment
#   FAIL_LOGS=(FILE...)  if a check failed, their tails are shown at teardown
#   WORK                 optional: the test's own directory, removed at teardown
#   TEARDOWN=FUNC        what teardown runs (default lab_teardown: FAIL_LOGS,
#                        `lab down`, WORK removed); a test that tears down by
#                        itself, as checks, sets torn_down=1 first
#   teardown             run TEARDOWN once: from test_end, else from the trap
#   test_end             teardown, "# took N s", "N passed, M failed" (run.sh
#                        reads it); succeeds only if nothing failed: the
#                        test's last command, its exit status
# A test that ends any other way (`|| exit 1`, ^C) is torn down all the same
# and ends with "N passed, M+1 failed (aborted, rc RC)".

# shellcheck source=lablib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lablib.sh"
# shellcheck source=gone.sh
. "$LAB_DIR/gone.sh"

passed=0 failed=0 torn_down=0 summary_done=0
FAIL_LOGS=()
TEARDOWN=lab_teardown
CHECK_OUT=/dev/null

say() { echo "$@" >&3; }
note() { say "# $*"; }
ok() { say "ok - $*"; passed=$((passed + 1)); }
not_ok() { say "not ok - $*"; failed=$((failed + 1)); }
check() {
	local d=$1
	shift
	if "$@" >"$CHECK_OUT" 2>&1; then
		ok "$d"
	else
		not_ok "$d"
		show_out
		return 1
	fi
}
show_out() { sed 's/^/#   /' "$CHECK_OUT" | tail -15 >&3; }

test_start() {
	exec 3>&1
	CHECK_OUT=$(mktemp "/tmp/${LAB_PREFIX:-lab}check.XXXXXX")
	trap test_exit EXIT
	trap 'say "# interrupted"; exit 130' INT TERM
	[ "$(id -u)" = 0 ] || stop_test "must run as root"
}
stop_test() {
	torn_down=1
	not_ok "$1"
	show_out
	summary_done=1
	say "$passed passed, $failed failed"
	exit 1
}
need_built() {
	local b all=""
	for b; do all="$all and $B/$b"; done
	for b; do [ -x "$B/$b" ] || stop_test "${all# and } must be built"; done
}

teardown() {
	[ "$torn_down" = 1 ] && return 0
	torn_down=1
	"$TEARDOWN"
}
show_fail_logs() {
	local f
	[ "$failed" -gt 0 ] || return 0
	for f in "${FAIL_LOGS[@]}"; do
		[ -f "$f" ] || continue
		say "# --- tail $f"
		tail -25 "$f" | sed 's/^/#   /' >&3
	done
}
lab_teardown() {
	show_fail_logs
	lab down >"$CHECK_OUT" 2>&1 ||
		{ say "# teardown reported an error:"; tail -5 "$CHECK_OUT" | sed 's/^/#   /' >&3; }
	[ -z "${WORK:-}" ] || rm -rf "$WORK"
}

test_end() {
	teardown
	note "took $SECONDS s"
	summary_done=1
	say "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
test_exit() {
	local rc=$?
	teardown
	[ "$CHECK_OUT" = /dev/null ] || rm -f "$CHECK_OUT"
	if [ "$summary_done" != 1 ]; then
		say "$passed passed, $((failed + 1)) failed (aborted, rc $rc)"
		exit 1
	fi
}
