#!/bin/bash
# vpn_throughput.sh - issue 3 benchmark (not a test): TCP throughput through
# the VPN and the CPU the VPN CLIENT spends on it, mobiked against the
# strongSwan client charon, both against the same lab gateway (strongSwan
# charon-systemd + kernel-libipsec), in ONE run:
#
#   [mn] client --ext1 (DHCP)--[inet]--[fw]--[gw charon]--[int]--[srv iperf3 -s]
#
#   (a) mobiked   (IKE aes256gcm16-prfsha384-x25519, ESP aes256gcm16, TUN)
#   (b) charon    (same proposals, kernel-libipsec TUN ipsec0)
#   (c) plain     reference without VPN: the MN on the internal DHCP subnet
#                 routed straight to srv (the firewall admits nothing else
#                 from outside), no client process at all
#
# Each case: RUNS iperf3 TCP runs of SECS seconds from the tunnel inner
# address (TIA) to srv.  Around every run the utime+stime of the client
# process (/proc/PID/stat, all its threads) and of the gw charon are read;
# CPU % = CPU-seconds / wall seconds of the run (100 % = one core), CPU-s/Gbit
# = CPU-seconds / Gbit received by srv.  Figures are medians over the runs.
#
# The gateway is kernel-libipsec (userspace ESP, one TUN): it likely caps the
# throughput for both clients, so compare CPU per Gbit, not Mbit/s.
#
# Env: RUNS (3), SECS (10), REVERSE=1 (srv -> MN instead of MN -> srv),
#      PLAIN=0 (skip the reference), B (build dir, default build),
#      BENCH_PREFIX (lab prefix, default vb<pid>-), BENCH_KEEP=1 (keep the
#      raw iperf3 JSON and logs in /tmp/<prefix>bench).
# Needs root (network namespaces).  Tears the lab down on exit.
set -euo pipefail

# shellcheck source=../lab/lablib.sh
. "$(dirname "$0")/../lab/lablib.sh"   # lab, in_ns, wait_for, recorded_pid, B; topology.sh
# shellcheck source=../lab/mobiked_lib.sh
. "$LAB_DIR/mobiked_lib.sh"            # mobiked_conf, start_mobiked, tia4, ...
RUNS=${RUNS:-3}
SECS=${SECS:-10}
REVERSE=${REVERSE:-0}
PLAIN=${PLAIN:-1}
[[ "$RUNS" =~ ^[1-9][0-9]?$ && "$SECS" =~ ^[1-9][0-9]{0,2}$ ]] ||
	{ echo "vpn_throughput: RUNS 1..99, SECS 1..999" >&2; exit 2; }

IKE_PROP=aes256gcm16-prfsha384-x25519
ESP_PROP=aes256gcm16
export LAB_PREFIX=${BENCH_PREFIX:-vb$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
# the lab's MN charon offers exactly what mobiked offers (no PFS group: it
# only matters on rekey, and neither client rekeys during the run)
export LAB_MN_IKE=$IKE_PROP LAB_MN_ESP=$ESP_PROP
WORK=/tmp/${LAB_PREFIX}bench
WAIT_POLL_MS=250
HZ=$(getconf CLK_TCK)
RESULTS=()        # "label mbps cpu% cpus_per_gbit gw%" lines (medians)

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# a signal may land while a function runs with its output redirected
	# (e.g. into a file or /dev/null): report on the original stdout/stderr
	exec 1>&8 2>&9
	if [ "$rc" -ne 0 ]; then
		for f in "$LAB_STATE/log/mobiked.log" "$LAB_STATE/gw/charon.log" "$LAB_STATE/mn/charon.log"; do
			[ -f "$f" ] && { log "--- tail $f"; tail -15 "$f" >&2; }
		done
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ] && [ -d "$LAB_STATE/log" ]; then
		cp -r "$LAB_STATE/log" "$WORK/lab-log" 2>/dev/null || true
	fi
	lab down >/dev/null 2>&1 || log "lab down reported an error"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then log "raw results kept in $WORK"; else rm -rf "$WORK"; fi
	[ "$rc" -eq 0 ] || log "benchmark FAILED (rc $rc)"
	exit "$rc"
}

# ---------------------------------------------------------------- measuring
# utime+stime in clock ticks of a whole process (all threads); the comm
# field may contain spaces, so count fields from the closing parenthesis
cpu_ticks() {
	local s
	[ "$1" = - ] && { echo 0; return; }
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}
now() { date +%s.%N; }

# measure LABEL CLIENT_PID BIND_ADDR: RUNS iperf3 runs, one line per run,
# then the medians appended to RESULTS
measure() {
	local label=$1 cpid=$2 bind=$3 gpid i t0 t1 c0 c1 g0 g1 json line rows=()
	local m cpu cpg gw gb cs wall retr
	local rev=()
	[ "$REVERSE" = 1 ] && rev=(-R)
	gpid=$(recorded_pid charon-gw) || die "gw charon not running"
	for i in $(seq "$RUNS"); do
		json=$WORK/$label-$i.json
		c0=$(cpu_ticks "$cpid") g0=$(cpu_ticks "$gpid") t0=$(now)
		in_ns mn timeout $((SECS + 30)) iperf3 -c "$SRV4" -B "$bind" -t "$SECS" \
			--connect-timeout 5000 -J "${rev[@]}" >"$json" 2>&1 ||
			{ cat "$json" >&2; die "$label run $i: iperf3 failed"; }
		t1=$(now) c1=$(cpu_ticks "$cpid") g1=$(cpu_ticks "$gpid")
		[ "$cpid" = - ] || kill -0 "$cpid" 2>/dev/null || die "$label: client process died"
		line=$(python3 - "$json" "$t0" "$t1" $((c1 - c0)) $((g1 - g0)) "$HZ" <<-'EOF'
			import json, sys
			j = json.load(open(sys.argv[1]))
			t0, t1, c, g, hz = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
			r = j["end"]["sum_received"]
			wall = t1 - t0
			gbit = r["bytes"] * 8 / 1e9
			cs, gs = c / hz, g / hz
			retr = j["end"].get("sum_sent", {}).get("retransmits", 0)
			print(f'{r["bits_per_second"] / 1e6:.1f} {100 * cs / wall:.1f} '
			      f'{cs / gbit if gbit else float("nan"):.3f} {100 * gs / wall:.1f} '
			      f'{gbit:.3f} {cs:.2f} {wall:.2f} {retr}')
			EOF
		) || die "$label run $i: cannot parse iperf3 output"
		rows+=("$line")
		read -r m cpu cpg gw gb cs wall retr <<<"$line"
		[ "$cpid" = - ] && cs=0 cpu=- cpg=-
		printf '  %-8s run %d: %8s Mbit/s  %6.3f Gbit in %5.2f s  client %5.2f CPU-s = %5s %%  %6s CPU-s/Gbit  gw %5s %%  retr %s\n' \
			"$label" "$i" "$m" "$gb" "$wall" "$cs" "$cpu" "$cpg" "$gw" "$retr"
	done
	RESULTS+=("$label $(printf '%s\n' "${rows[@]}" | python3 -c '
import sys, statistics as st
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
print(" ".join(f"{st.median(c):.3f}" for c in list(zip(*rows))[:4]))')")
}

# ---------------------------------------------------------------- the run
[ "$(id -u)" = 0 ] || { echo "vpn_throughput: needs root (network namespaces)" >&2; exit 1; }
[ -x "$B/mobiked" ] && [ -x "$B/mobctl" ] || { echo "vpn_throughput: build $B/mobiked and $B/mobctl first (make)" >&2; exit 1; }
for c in iperf3 python3 charon-systemd; do
	command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || { echo "vpn_throughput: $c missing" >&2; exit 1; }
done
exec 8>&1 9>&2   # the original stdout/stderr, for cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"

echo "vpn_throughput: iperf3 TCP $([ "$REVERSE" = 1 ] && echo 'srv -> MN' || echo 'MN -> srv'), $RUNS x ${SECS}s per client;" \
	"IKE $IKE_PROP, ESP $ESP_PROP; gw strongSwan $(dpkg-query -W -f='${Version}' charon-systemd 2>/dev/null || echo '?') kernel-libipsec;" \
	"$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))"
log "lab up (prefix $LAB_PREFIX)"
lab up >"$WORK/lab-up.log" 2>&1 || { cat "$WORK/lab-up.log" >&2; die "lab up failed"; }
lab dhcp -4 >/dev/null || die "no DHCP lease on ext1"
lab spawn srv iperf3-srv iperf3 -s -B "$SRV4" >/dev/null 2>&1
wait_for 5 tcp_listening srv 5201 || die "iperf3 server does not listen"

# ---- (a) mobiked
MOBIKED_LOG=info MOBIKED_VIPS='"0.0.0.0"'
mobiked_conf "$GW_OUT4" "$IKE_PROP" "$ESP_PROP" "request_dns = false;"
mobiked_t >/dev/null || die "mobiked -t rejects the generated config"
log "(a) mobiked: start, wait for the IKE SA"
start_mobiked >/dev/null 2>&1
wait_for 20 established || die "mobiked: no established IKE SA with a TIA within 20 s"
tia=$(tia4)
mpid=$(recorded_pid mobiked) || die "mobiked is not running"
log "mobiked pid $mpid established, TIA $tia; $(lab swanctl gw --list-sas 2>/dev/null | grep -o 'AES_GCM[^ ]*' | head -2 | tr '\n' ' ')"
in_ns mn ping -c 2 -i 0.2 -W 2 -I "$tia" "$SRV4" >/dev/null || die "mobiked: no ping to srv through the tunnel"
measure mobiked "$mpid" "$tia"
stop_mobiked >/dev/null 2>&1
wait_for 10 gw_no_sa || die "gw still has an SA after mobiked stopped"

# ---- (b) strongSwan client charon
log "(b) charon client: start, initiate"
lab charon mn start >/dev/null 2>&1 || die "MN charon does not start"
lab swanctl mn --initiate --child intranet --timeout 20 >"$WORK/initiate.log" 2>&1 ||
	{ cat "$WORK/initiate.log" >&2; die "charon client: initiate failed"; }
vip=$(lab swanctl mn --list-sas --raw | sed -n 's/.*local-vips=\[\([0-9.]*\).*/\1/p' | head -1)
[ -n "$vip" ] || die "charon client: no virtual IP"
cpid=$(recorded_pid charon-mn) || die "MN charon is not running"
log "charon pid $cpid established, VIP $vip; $(lab swanctl gw --list-sas 2>/dev/null | grep -o 'AES_GCM[^ ]*' | head -2 | tr '\n' ' ')"
in_ns mn ping -c 2 -i 0.2 -W 2 -I "$vip" "$SRV4" >/dev/null || die "charon: no ping to srv through the tunnel"
measure charon "$cpid" "$vip"
lab charon mn stop >/dev/null 2>&1
wait_for 10 gw_no_sa || log "warning: gw still lists an SA after the MN charon stopped"

# ---- (c) plain routing reference
if [ "$PLAIN" = 1 ]; then
	log "(c) plain: MN on the internal DHCP subnet, routed to srv without VPN"
	lab move dhcp >/dev/null 2>&1 || die "move dhcp failed"
	a4=$(lab dhcp -4 | awk '{print $1}') || die "no lease on the internal DHCP subnet"
	measure plain - "$a4"
fi

# ---------------------------------------------------------------- report
printf '\nmedians over %d run(s) of %d s, %s; CPU %% of one core, measured over the whole iperf3 run\n' \
	"$RUNS" "$SECS" "$([ "$REVERSE" = 1 ] && echo 'srv -> MN' || echo 'MN -> srv')"
printf '%-26s %10s %14s %16s %10s\n' client Mbit/s "client CPU %" "CPU-s per Gbit" "gw CPU %"
for r in "${RESULTS[@]}"; do
	read -r l m c p g <<<"$r"
	case "$l" in
	mobiked) d="mobiked (userspace ESP)" ;;
	charon) d="charon (kernel-libipsec)" ;;
	esac
	if [ "$l" = plain ]; then
		printf '%-26s %10.1f %14s %16s %10.1f\n' "plain routing (no VPN)" "$m" - - "$g"
	else
		printf '%-26s %10.1f %14.1f %16.3f %10.1f\n' "$d" "$m" "$c" "$p" "$g"
	fi
done
python3 - "${RESULTS[@]}" <<'EOF'
import sys
r = {l.split()[0]: list(map(float, l.split()[1:])) for l in sys.argv[1:]}
m, c = r["mobiked"], r["charon"]
# CPU per Gb/s = CPU fraction / (Gbit/s) = CPU-s per Gbit: same ratio
ratio = m[2] / c[2] if c[2] else float("nan")
print(f"\nratio mobiked CPU per Gb/s / charon CPU per Gb/s = {m[2]:.3f} / {c[2]:.3f} = {ratio:.2f}"
      f"  ({'mobiked uses less' if ratio < 1 else 'mobiked uses MORE'} CPU per Gb/s)")
print(f"throughput mobiked / charon = {m[0] / c[0]:.2f}" if c[0] else "")
if max(m[3], c[3]) >= 90:
    print("note: the gw charon (kernel-libipsec) is at ~one core: it, not the client, limits Mbit/s")
if "plain" in r:
    print(f"plain-routing reference: {r['plain'][0]:.0f} Mbit/s "
          f"(mobiked {100 * m[0] / r['plain'][0]:.0f} %, charon {100 * c[0] / r['plain'][0]:.0f} % of it)")
EOF
