#!/bin/bash
# ha_load.sh - issue 4 benchmark (not a test): a real mipd home agent under
# authenticated Registration Requests over UDP 434, at 10k, 100k and 1M
# mobile nodes, against references measured in the same run.
#
#   [NS gen: ha_load run, core GEN_CPU] 172.31.0.2 --veth-- 172.31.0.1
#   [NS ha: mipd role ha (or ha_load reflect), core HA_CPU]
#
# Per size N: `ha_load setup` writes 256 random MN-HA keys (mode 600; node i
# uses key i % 256) and N mobile_nodes entries; mipd starts with
# max_bindings = N, its data plane (TUN, one host route per binding) and log
# level warn (at info it logs every new binding).  Then:
#   reg     every node registers once (nodes in order): bindings 0 -> N
#   rereg   OPS re-registrations of nodes drawn at random (cache at N)
# Figures: answered = replies that parse, accept (code 0/1) and carry an
# MN-HA authenticator that checks with the node's key, per second from the
# first request to the last reply, at most WIN requests unanswered; HA CPU %
# of one core and CPU ns per request from utime+stime in /proc/PID/stat;
# rss0 = the HA's VmRSS with its N-node table loaded and no binding, rss =
# after every node registered, B/bind = (rss - rss0) / N.  The limiter:
# per_source = 1000000/s, burst 1000000, so it runs on every request (its
# cost is in the figures) but drops nothing for the one source address.
# Timestamp window 600 s: requests are signed before the clock starts.
#
# "On one HA core" is core/s = 1e9 / (HA CPU ns per request): what one
# core does when the HA is its only load.  req/s as measured is lower when
# the machine is busy or the generator cannot keep the HA saturated.
#
# References, same run, same namespaces, same cores:
#   floor64  `ha_load reflect`: echoes every datagram with the HA's socket
#            handling (IP_PKTINFO in and out, 64 per wakeup through
#            recvmmsg/sendmmsg) and nothing else: the syscall floor.  It
#            is so cheap that it sleeps between datagrams, so its req/s is
#            the generator's; its ns/req is the floor's cost.
#   floor1   the same, recvmsg/sendmsg one datagram at a time.
#   ratio    HA core/s / floor64 core/s (1.0 = the HA costs no more than
#            moving the bytes); inproc = build/bench/ha_bench's rereg/s at
#            N on the same core (no sockets), w/in = core/s / inproc; its
#            batch/s figure where it has one (64 at a time after
#            ha_prefetch(), the order the socket path handles a batch in).
# veth delivers a datagram on the sender's core: the HA's core pays for the
# receive path of its replies into the generator's socket (and the
# generator's core for the requests'), the floors the same.
#
# Env: SIZES ("10000 100000 1000000"), OPS (1000000), WIN (128),
#      HA_CPU (0), GEN_CPU (1), B (build dir, default build),
#      BENCH_PREFIX (default hb<pid>-), BENCH_KEEP=1 (keep $WORK and logs).
# Needs root (network namespaces).  Removes only what it made, on any exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${B:-build}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac
SIZES=${SIZES:-10000 100000 1000000}
OPS=${OPS:-1000000}
WIN=${WIN:-128}
HA_CPU=${HA_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
P=${BENCH_PREFIX:-hb$$-}
NS_HA=${P}ha NS_GEN=${P}gen
HA4=172.31.0.1 GEN4=172.31.0.2
LOAD=$B/bench/ha_load

log() { printf '[ha_load %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for f in "$B/mipd" "$B/mobctl" "$LOAD" "$B/bench/ha_bench"; do
	[ -x "$f" ] || die "$f missing: make B=${B#"$ROOT"/} all"
done
for n in $SIZES; do
	[[ "$n" =~ ^[1-9][0-9]{0,6}$ ]] || die "SIZES: 1..9999999 each"
done
[[ "$OPS" =~ ^[1-9][0-9]{0,7}$ && "$WIN" =~ ^[1-9][0-9]{0,4}$ ]] ||
	die "OPS 1..99999999, WIN 1..99999"

WORK=$(mktemp -d "/tmp/${P}XXXXXX")
chmod 700 "$WORK"
PIDS=()
NETNS=()

stop_pid() { # PID: TERM, then KILL; only a PID this script started
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	# mipd removes a route per binding on the way out: ~10 s at 1M
	for i in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
	[ "$rc" -eq 0 ] || log "benchmark FAILED (rc $rc)"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { # PID: drop it from PIDS once stopped
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# ---------------------------------------------------------------- network
net_up() {
	ip netns add "$NS_HA" && NETNS+=("$NS_HA")
	ip netns add "$NS_GEN" && NETNS+=("$NS_GEN")
	ip link add "${P}h" netns "$NS_HA" type veth peer name "${P}g" netns "$NS_GEN"
	ip -n "$NS_HA" addr add "$HA4/24" dev "${P}h"
	ip -n "$NS_GEN" addr add "$GEN4/24" dev "${P}g"
	for ns in "$NS_HA" "$NS_GEN"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_HA" link set "${P}h" up
	ip -n "$NS_GEN" link set "${P}g" up
}

# ---------------------------------------------------------------- helpers
kv() { # LINE KEY: the value of KEY=value in LINE
	local w
	for w in $1; do
		[ "${w%%=*}" = "$2" ] && { echo "${w#*=}"; return; }
	done
	echo 0
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
udp_drops() { # NS: datagrams its UDP sockets dropped for a full buffer
	ip netns exec "$1" awk '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}
gen() { # ARGS...: one generator run on GEN_CPU; its key=value line in GEN
	local pid d0
	d0=$(udp_drops "$NS_HA")
	# in the background, so that a signal ends the benchmark at once
	timeout 900 ip netns exec "$NS_GEN" taskset -c "$GEN_CPU" \
		"$LOAD" run -a "$HA4" -w "$WIN" "$@" >"$WORK/gen.out" &
	pid=$!
	PIDS+=("$pid")
	wait "$pid" || die "generator failed (ha_load run $*)"
	forget_pid "$pid"
	GEN="$(cat "$WORK/gen.out") ha_rcvbuf_drops=$(($(udp_drops "$NS_HA") - d0))"
}
start_in_ha() { # LOGFILE CMD...: started on HA_CPU in NS_HA; sets STARTED
	local logf=$1
	shift
	# ip netns exec and taskset exec in place: $! is the program itself
	ip netns exec "$NS_HA" taskset -c "$HA_CPU" "$@" >"$logf" 2>&1 &
	STARTED=$!
	PIDS+=("$STARTED")
}
ha_status() { timeout 10 "$B/mobctl" -s "$WORK/ha.sock" --json mipd status 2>/dev/null; }
ha_bindings() { ha_status | grep -o '"bindings": *[0-9]*' | grep -o '[0-9]*$'; }

# ---------------------------------------------------------------- reference
floor() { # BATCH: echo rate through ha_load reflect, in GEN
	local pid
	start_in_ha "$WORK/reflect.log" "$LOAD" reflect -b "$1"
	pid=$STARTED
	sleep 0.3
	kill -0 "$pid" 2>/dev/null || die "reflector did not start: $(cat "$WORK/reflect.log")"
	gen -d "$WORK/floor" -n 10000 -o "$OPS" -m echo -P "$pid"
	stop_pid "$pid"
	forget_pid "$pid"
}

# ---------------------------------------------------------------- one size
ha_conf() { # N DIR
	cat <<EOF
role = "ha";
log = { level = "warn"; };
control = { socket = "$WORK/ha.sock"; };
ha = { address = "$HA4"; home_prefix = "10.0.0.0/8"; tunnel = "${P}t";
       max_bindings = $1; max_lifetime = 1800; replay_window = 600;
       rate = { per_source = 1000000; burst = 1000000; }; };
EOF
	cat "$2/mobile_nodes.conf"
}

ROWS=()
one_size() { # N
	local n=$1 dir=$WORK/n$1 pid i rss0 rss1 bnd reg re inproc t0
	mkdir -m 700 "$dir"
	"$LOAD" setup "$dir" "$n"
	ha_conf "$n" "$dir" >"$dir/ha.conf"
	t0=$(date +%s)
	start_in_ha "$dir/mipd.log" "$B/mipd" -c "$dir/ha.conf"
	pid=$STARTED
	for i in $(seq 3600); do
		kill -0 "$pid" 2>/dev/null || die "mipd exited: $(tail -5 "$dir/mipd.log")"
		[ -n "$(ha_bindings)" ] && break
		sleep 0.25
	done
	[ -n "$(ha_bindings)" ] || die "mipd with $n nodes not up after 900 s"
	log "N=$n: mipd $pid up in $(($(date +%s) - t0)) s, RSS $(($(rss_kib "$pid") / 1024)) MiB"
	rss0=$(rss_kib "$pid")
	gen -d "$dir" -n "$n" -o "$n" -m seq -P "$pid"
	reg=$GEN
	log "N=$n reg:   $reg"
	rss1=$(rss_kib "$pid")
	bnd=$(ha_bindings)
	gen -d "$dir" -n "$n" -o "$OPS" -m random -P "$pid"
	re=$GEN
	log "N=$n rereg: $re"
	stop_pid "$pid"
	forget_pid "$pid"
	rm -f "$dir"/mobile_nodes.conf "$dir"/ha.conf
	inproc=$(taskset -c "$HA_CPU" "$B/bench/ha_bench" "$n" </dev/null | awk -v n="$n" '
		$1 == "nodes" { for (i = 1; i <= NF; i++) { if ($i == "rereg/s") r = i; if ($i == "batch/s") b = i } }
		$1 == n { print $(b ? b : r); exit }')
	ROWS+=("$n $(kv "$reg" rate) $(kv "$reg" cpu_pct) $(kv "$re" rate) $(kv "$re" cpu_pct) $(kv "$re" cpu_ns_per_req) $(($(kv "$reg" lost) + $(kv "$re" lost))) $rss0 $rss1 $bnd ${inproc:-0}")
}

# ---------------------------------------------------------------- main
net_up
mkdir -m 700 "$WORK/floor"
"$LOAD" setup "$WORK/floor" 1 >/dev/null
log "reference: reflector, 64 per wakeup"
floor 64
F64A=$GEN
log "  $F64A"
log "reference: reflector, one by one"
floor 1
F1=$GEN
log "  $F1"
for n in $SIZES; do one_size "$n"; done
log "reference again (drift check): reflector, 64 per wakeup"
floor 64
F64B=$GEN
log "  $F64B"

n64=$(awk -v a="$(kv "$F64A" cpu_ns_per_req)" -v b="$(kv "$F64B" cpu_ns_per_req)" 'BEGIN {printf "%.0f", (a + b) / 2}')
echo "home agent over the wire: mipd on core $HA_CPU, generator on core $GEN_CPU, window $WIN, $OPS re-registrations per size"
printf '%-9s %8s %5s %6s %8s\n' reference req/s cpu% ns/req core/s
for f in "floor64 $F64A" "floor1 $F1" "floor64 $F64B"; do
	awk -v name="${f%% *}" -v r="$(kv "$f" rate)" -v c="$(kv "$f" cpu_pct)" -v ns="$(kv "$f" cpu_ns_per_req)" 'BEGIN {
		printf "%-9s %8.0f %5.1f %6.0f %8.0f\n", name, r, c, ns, ns ? 1e9 / ns : 0 }'
done
printf '%8s %7s %5s %8s %5s %6s %8s %5s %5s %7s %7s %6s %4s %8s %5s\n' \
	nodes reg/s cpu% rereg/s cpu% ns/req core/s ratio lost rss0MiB rssMiB B/bind bnd% inproc w/in
for r in "${ROWS[@]}"; do
	# shellcheck disable=SC2086
	set -- $r
	awk -v n="$1" -v rg="$2" -v rgc="$3" -v re="$4" -v rec="$5" -v ns="$6" \
		-v lost="$7" -v r0="$8" -v r1="$9" -v bnd="${10}" -v inp="${11}" \
		-v fn="$n64" 'BEGIN {
		core = ns ? 1e9 / ns : 0
		printf "%8d %7.0f %5.1f %8.0f %5.1f %6.0f %8.0f %5.2f %5d %7.1f %7.1f %6.0f %4.0f %8.0f %5.2f\n",
			n, rg, rgc, re, rec, ns, core, ns ? fn / ns : 0, lost,
			r0 / 1024, r1 / 1024, (r1 - r0) * 1024 / n, bnd * 100 / n,
			inp, inp ? core / inp : 0 }'
done
cat <<EOF
reg/s, rereg/s: authenticated accepts per second (first registrations in order;
re-registrations of random nodes); cpu% = HA CPU, 100 = one core; ns/req = HA CPU
per re-registration, core/s = 1e9 / ns/req (re-registrations/s on one HA core).
ratio = floor64 ns/req (mean of its two runs) / ns/req: 1.00 = the HA costs what
moving the bytes costs.  rss0 = HA RSS with its N-node table and no binding,
rss = all registered, B/bind = (rss - rss0) / N; bnd% = bindings the HA reports
/ N; lost = requests never answered.  inproc = ha_bench batch/s (else rereg/s)
at N (ha_handle, no sockets, one core), w/in = core/s / inproc.  Limiter:
per_source 1000000/s (runs on every request, drops nothing).
target (issue 4): >= 200k req/s on one HA core, 1M bindings in <= 256 MiB.
EOF
