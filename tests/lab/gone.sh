# shellcheck shell=bash
# gone.sh - what lab tests assert after a teardown (sourced; testlib.sh does
# it): nothing of a run is left.  Record run_ns_inodes and pids.history
# before the teardown (the namespaces and the state dir are gone after it,
# and a process could still hold a namespace anonymously), then check.
#   inodes=$(run_ns_inodes "$LAB_PREFIX")     # before
#   no_ns_of "$LAB_PREFIX"                    # after: none in `ip netns list`
#   none_alive <<<"$(cat pids.history)"       # "NAME PID STARTTIME NS" lines
#   none_in_netns $inodes                     # no process anywhere in them
#   none_naming "$LAB_STATE/"                 # no command line names it
# Each check prints what it found left and returns 1 if anything was.
# proc_running PID STARTTIME: that process still runs (and is no zombie).

run_ns_inodes() {   # PREFIX: inodes of the run's namespaces
	local f
	for f in /run/netns/"$1"*; do
		[ -e "$f" ] && stat -L -c %i "$f"
	done
	return 0
}

no_ns_of() {   # PREFIX
	local left
	left=$(ip netns list | awk -v p="$1" 'index($1, p) == 1 { print $1 }')
	[ -z "$left" ] && return 0
	echo "namespaces left: $left"
	return 1
}

# alive = the same PID with the same start time, and not a zombie
proc_running() {
	local st
	st=$(awk '{print $3 " " $22}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "${st#* }" = "$2" ] && [ "${st%% *}" != Z ]
}

none_alive() {   # stdin: "NAME PID STARTTIME ..." (lab.sh's pids.history)
	local name pid t rest bad=0 n=0
	while read -r name pid t rest; do
		[ -n "$name" ] || continue
		n=$((n + 1))
		proc_running "$pid" "$t" || continue
		echo "$name (pid $pid) still alive"
		bad=1
	done
	[ "$n" -gt 0 ] || { echo "no processes recorded"; return 1; }
	return "$bad"
}

none_in_netns() {   # INODE...: no live process has one as its net namespace
	local inos=" $* " f l ino pid bad=0
	[ $# -gt 0 ] || { echo "no namespace inodes recorded"; return 1; }
	for f in /proc/[0-9]*/ns/net; do
		l=$(readlink "$f" 2>/dev/null) || continue   # gone, or a zombie
		ino=${l#net:[} ino=${ino%]}
		[[ "$inos" == *" $ino "* ]] || continue
		pid=${f#/proc/} pid=${pid%%/*}
		echo "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) still in net namespace $ino"
		bad=1
	done
	return "$bad"
}

# DIR: no process (but this check's own) has DIR in its command line, e.g.
# a daemon's child the run never recorded, with its state under DIR
none_naming() {
	"$PY" - "$1" <<'EOF'
import os, sys
left = []
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        c = open("/proc/%s/cmdline" % p, "rb").read().replace(b"\0", b" ")
    except OSError:
        continue
    if sys.argv[1].encode() in c:
        left.append("%s (%s)" % (p, c.decode(errors="replace")[:60]))
if left:
    print(", ".join(left))
sys.exit(1 if left else 0)
EOF
}
