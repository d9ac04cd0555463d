# shellcheck shell=bash
# gone.sh - what lab tests assert after a teardown (sourced): nothing of a run
# is left.  Record run_ns_inodes before the teardown (the namespaces are gone
# after it, and a process could still hold one anonymously), then check.
#   inodes=$(run_ns_inodes "$LAB_PREFIX")     # before
#   no_ns_of "$LAB_PREFIX"                    # after: none in `ip netns list`
#   none_alive <<<"$(cat pids.history)"       # "NAME PID STARTTIME NS" lines
#   none_in_netns $inodes                     # no process anywhere in them
# Each check prints what it found left and returns 1 if anything was.

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

none_alive() {   # stdin: "NAME PID STARTTIME ..." (lab.sh's pids.history)
	local name pid t rest st bad=0 n=0
	while read -r name pid t rest; do
		[ -n "$name" ] || continue
		n=$((n + 1))
		# alive = same PID with the same start time and not a zombie
		st=$(awk '{print $3 " " $22}' "/proc/$pid/stat" 2>/dev/null) || continue
		if [ "${st#* }" = "$t" ] && [ "${st%% *}" != Z ]; then
			echo "$name (pid $pid) still alive"
			bad=1
		fi
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
