# shellcheck shell=bash
# lablib.sh - driving a running lab (lab.sh) from a script: what the lab
# tests (through testlib.sh), demo.sh and tests/bench/vpn_throughput.sh
# share.  Sourced; sources topology.sh (the addresses: GW_OUT4, SRV4, ...).
# The caller exports LAB_PREFIX and LAB_STATE for its run, and gets:
#   LAB_DIR, ROOT, LAB   tests/lab, the repository, lab.sh
#   B                    the build dir made absolute (env B, default build)
#   PY                   the python3 interpreter itself (not a wrapper such
#                        as a pyenv shim: it runs in every poll)
#   lab ARGS...          lab.sh (timeout 90 s)
#   in_ns NS CMD...      CMD in the run's namespace NS (timeout 30 s)
#   wait_for SECONDS CMD...  run CMD (output discarded) until it succeeds:
#                        again after each pause of WAIT_POLL_MS (default 500)
#                        ms, for SECONDS of pauses (CMD's own time on top)
#   recorded_pid NAME    the PID lab.sh recorded for NAME, if that process
#                        still runs (same start time)
#   mn_addr -4|-6        the MN's first global address on mn0
#   tcp_listening NS PORT  something listens on TCP PORT in NS
#   gw_sas, gw_no_sa     `swanctl --list-sas` on the gw; it has no IKE SA
# lab and in_ns close fd 3: testlib.sh reports there, and the daemons they
# start must not hold it open.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LAB_DIR/../.." && pwd)
LAB=$LAB_DIR/lab.sh
# shellcheck source=topology.sh
. "$LAB_DIR/topology.sh"
B=${B:-build}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac
WAIT_POLL_MS=${WAIT_POLL_MS:-500}
PY=${PY:-$(python3 -c 'import sys; print(sys.executable)')}

lab() { timeout 90 "$LAB" "$@" 3>&-; }
in_ns() { local ns=$1; shift; timeout 30 ip netns exec "${LAB_PREFIX}$ns" "$@" 3>&-; }

wait_for() {
	local n=$(($1 * 1000 / WAIT_POLL_MS)) pause
	shift
	printf -v pause '%d.%03d' $((WAIT_POLL_MS / 1000)) $((WAIT_POLL_MS % 1000))
	until "$@" >/dev/null 2>&1; do
		[ "$n" -gt 0 ] || return 1
		sleep "$pause"
		n=$((n - 1))
	done
}

# pids/NAME.pid is "PID STARTTIME NS"; the start time tells a recycled PID
recorded_pid() {
	local pid t rest
	read -r pid t rest 2>/dev/null <"$LAB_STATE/pids/$1.pid" || return 1
	[ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$t" ] || return 1
	echo "$pid"
}

mn_addr() { in_ns mn ip "$1" -o addr show dev mn0 scope global | awk '{print $4}' | cut -d/ -f1 | head -1; }
tcp_listening() { in_ns "$1" ss -Hltn "sport = :$2" | grep -q .; }
gw_sas() { lab swanctl gw --list-sas 2>/dev/null; }
gw_no_sa() { ! gw_sas | grep -q ESTABLISHED; }
