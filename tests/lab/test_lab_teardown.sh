#!/bin/bash
# test_lab_teardown.sh - lab.sh cleans up after itself when `up` is
# interrupted (^C), when `up` fails half-way, and when two labs run at the
# same time and one is torn down.  Each time: none of that run's namespaces,
# none of the processes it started (recorded or only living in its
# namespaces) remain, and the other lab, running all along, is untouched.
# Prints "ok - ..." / "not ok - ..." and a final "N passed, M failed".
# Run as root; about 20 s.  B (build dir) is accepted and unused.
set -uo pipefail

. "$(dirname "$0")/testlib.sh" # check, LAB, ...; topology.sh, gone.sh

P=${LAB_TEST_PREFIX:-d$$}
OTHER=${P}o-                   # the lab that keeps running throughout
PREFIXES=()                    # every prefix this test used, for teardown
TEARDOWN=all_down
test_start

state_of() { echo "/tmp/${1}lab"; }
# lab_of PREFIX ARGS...: lab.sh for that run, passing on LAB_KEEP_STATE and
# LAB_FAIL_AT if the caller set them (fd 3 closed: daemons must not hold our
# stdout)
lab_of() {
	local p=$1
	shift
	LAB_PREFIX=$p LAB_STATE=$(state_of "$p") LAB_KEEP_STATE=${LAB_KEEP_STATE:-0} \
		LAB_FAIL_AT=${LAB_FAIL_AT:-} timeout 90 "$LAB" "$@" 3>&-
}
use() { PREFIXES+=("$1"); }

# teardown: every lab this test started that is still there
all_down() {
	local p
	for p in "${PREFIXES[@]}"; do
		[ -d "$(state_of "$p")" ] || ls /run/netns/"$p"* >/dev/null 2>&1 || continue
		lab_of "$p" down >/dev/null 2>&1
		rm -rf "$(state_of "$p")"
	done
	end_strays
}

# ---------------------------------------------------------------- helpers
# gone PREFIX LABEL: the run left nothing.  Needs its state dir kept
# (LAB_KEEP_STATE=1) for ns.inodes and pids.history, removes it afterwards.
gone() {
	local p=$1 st inodes
	st=$(state_of "$p")
	inodes=$(awk '{print $2}' "$st/ns.inodes" 2>/dev/null)
	check "$2: no namespace $p* in ip netns list" no_ns_of "$p"
	check "$2: none of the $(grep -c . "$st/pids.history" 2>/dev/null || echo 0) processes it started is alive" \
		none_alive <"$st/pids.history"
	# shellcheck disable=SC2086
	check "$2: no process anywhere in its $(echo $inodes | wc -w) namespaces" none_in_netns $inodes
	rm -rf "$st"
}

# The other lab: its namespaces (same inodes), its recorded processes (same
# start times) and its gateway, as recorded right after it came up.
other_ns=() other_procs=()
snapshot_other() {
	local st f
	st=$(state_of "$OTHER")
	mapfile -t other_ns <"$st/ns.inodes"
	other_procs=()
	for f in "$st"/pids/*.pid; do other_procs+=("$(basename "$f" .pid) $(cat "$f")"); done
}
other_untouched() {
	local l name ino pid t rest
	[ "${#other_ns[@]}" = "${#TOPO_NS[@]}" ] || { echo "snapshot has ${#other_ns[@]} namespaces"; return 1; }
	for l in "${other_ns[@]}"; do
		read -r name ino <<<"$l"
		[ "$(stat -L -c %i "/run/netns/$name" 2>/dev/null)" = "$ino" ] || { echo "$name gone or replaced"; return 1; }
	done
	[ "${#other_procs[@]}" -ge 5 ] || { echo "snapshot has ${#other_procs[@]} processes"; return 1; }
	for l in "${other_procs[@]}"; do
		read -r name pid t rest <<<"$l"
		proc_running "$pid" "$t" || { echo "$name (pid $pid) is not running"; return 1; }
	done
	lab_of "$OTHER" swanctl gw --list-conns | grep -q '^rw:' || { echo "gw charon does not answer"; return 1; }
}

# strays PREFIX: two processes in the run's namespaces that lab.sh never
# recorded, one ignoring SIGTERM; teardown must find them by namespace.
# (ip netns exec execs: $! is the sleep itself.)
STRAYS=()
strays() {
	ip netns exec "${1}srv" sleep 300 </dev/null >/dev/null 2>&1 3>&- &
	STRAYS+=($!)
	ip netns exec "${1}mn" sh -c 'trap "" TERM; exec sleep 300' </dev/null >/dev/null 2>&1 3>&- &
	STRAYS+=($!)
}
# our own children: after a failed check they may still run
end_strays() {
	local pid
	for pid in "${STRAYS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
}

wait_file() {   # TENTHS FILE
	local n=$1
	while [ "$n" -gt 0 ]; do [ -e "$2" ] && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}

# ---------------------------------------------------------------- the other lab
say "# prefixes ${P}*-; the other lab is $OTHER"
use "$OTHER"
check "the other lab $OTHER comes up" lab_of "$OTHER" up
snapshot_other
check "its ${#TOPO_NS[@]} namespaces and ${#other_procs[@]} processes recorded" other_untouched

# A second `up` with the running lab's prefix (another state dir) must
# refuse before touching anything.
clash() {
	! LAB_PREFIX=$OTHER LAB_STATE=/tmp/${P}clash timeout 30 "$LAB" up 3>&- &&
		[ ! -e "/tmp/${P}clash" ]
}
check "up with the running lab's prefix refuses (namespace exists)" clash
check "the other lab is untouched" other_untouched

# ---------------------------------------------------------------- (a) ^C
A=${P}i-
use "$A"
# Job control: the background `up` gets its own process group, as a
# foreground command in a terminal does, and SIGINT goes to all of it (a
# non-interactive shell's background jobs would ignore SIGINT).
set -m
LAB_PREFIX=$A LAB_STATE=$(state_of "$A") LAB_KEEP_STATE=1 "$LAB" up >"$CHECK_OUT.a" 2>&1 3>&- &
upid=$!
set +m
# mid-way: namespaces built, the first dnsmasq started, the gw not yet
if wait_file 200 "$(state_of "$A")/pids/dnsmasq-ext1.pid"; then
	kill -INT -- "-$upid"
	say "# SIGINT to the process group of lab.sh up (pid $upid) after $(grep -c . "$(state_of "$A")/pids.history") processes started"
fi
for _ in $(seq 300); do kill -0 "$upid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$upid" 2>/dev/null && kill -KILL -- "-$upid"
wait "$upid"
rc=$?
interrupted() {
	cat "$CHECK_OUT.a"
	[ "$rc" = 130 ] && grep -q "up failed (rc 130), tearing down" "$CHECK_OUT.a" &&
		grep -q "lab $A down" "$CHECK_OUT.a"
}
check "^C: lab.sh up exits 130 and tears down (rc $rc)" interrupted
rm -f "$CHECK_OUT.a"
gone "$A" "^C"
check "^C: the other lab is untouched" other_untouched

# ---------------------------------------------------------------- (b) failure
for step in dnsmasq-dhcp charon-gw; do
	F=${P}f${step%%-*}-
	use "$F"
	fails() {
		local rc
		LAB_FAIL_AT=$step LAB_KEEP_STATE=1 lab_of "$F" up >"$CHECK_OUT.b" 2>&1
		rc=$?
		cat "$CHECK_OUT.b"
		[ "$rc" != 0 ] && grep -q "LAB_FAIL_AT=$step: failing on purpose" "$CHECK_OUT.b" &&
			grep -q "up failed (rc 1), tearing down" "$CHECK_OUT.b"
	}
	check "failure after $step: up fails and tears down" fails
	rm -f "$CHECK_OUT.b"
	gone "$F" "failure after $step"
	check "failure after $step: the other lab is untouched" other_untouched
done

# ---------------------------------------------------------------- (c) side by side
C=${P}c-
use "$C"
check "a second lab $C comes up next to the other" lab_of "$C" up
check "MN of $C gets a DHCP lease on ext1" lab_of "$C" dhcp -4
strays "$C"
sleep 0.2
LAB_KEEP_STATE=1 check "lab.sh down of $C" lab_of "$C" down
gone "$C" "down next to the other lab"
check "down of $C: the other lab is untouched" other_untouched
other_works() {
	local a
	a=$(lab_of "$OTHER" dhcp -4) || return 1
	echo "lease $a"
	[[ "$a" == 172.16.1.* ]] &&
		lab_of "$OTHER" exec mn ping -c 1 -W 2 -q "$EXT1_R4"
}
check "the other lab still works: MN lease on ext1, ping its router" other_works

# ---------------------------------------------------------------- the other, down
strays "$OTHER"
sleep 0.2
LAB_KEEP_STATE=1 check "lab.sh down of the other lab" lab_of "$OTHER" down
gone "$OTHER" "the other lab"
end_strays

test_end
