#!/bin/bash
# test_mipd.sh - issue 4 "Must show" on the lab: mipd as home agent [ha],
# foreign agent [fa] and mobile node [mn]; two TCP sessions (srv -> the
# MN's home address, and MN -> srv from the home address) survive
#   home -> dhcp (mode c) -> fa (mode f) -> home
# with the HA's binding cache and the FA's visitor list checked at each
# step; then an HA restart while the MN is away, a clock skew (133, then
# resync), a wrong MN-HA key (131) and a replayed request (133); tshark
# decodes the registration messages captured on the HA's home link and
# the FA's link, and the test checks their fields.
#
#   [srv] 10.40.0.2 --- [int] --- br-home: [ha] ha0 10.10.0.2 (+ proxy ARP)
#                         |   \-- br-dhcp 10.20.0.0/24 (dnsmasq)
#                         \-- [fa] br-fa 10.30.0.1 (FA, advertises)
#   [mn] mn0 (home address 10.10.0.100) is re-plugged by `lab.sh move`.
#
# Output: "ok - ..." / "not ok - ..." lines, handover gaps per move, and
# "N passed, M failed".  Everything is torn down on exit (lab.sh down).
# Env: B (build dir, default build), LAB_TEST_PREFIX, KEEP=1 keeps state.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LAB_DIR/../.." && pwd)
B=${B:-build}
MIPD=$ROOT/$B/mipd
MOBCTL=$ROOT/$B/mobctl
export LAB_PREFIX=${LAB_TEST_PREFIX:-m$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
[ "${KEEP:-0}" = 1 ] && export LAB_KEEP_STATE=1
PY=$(python3 -c 'import sys; print(sys.executable)')
# shellcheck source=mip.sh
. "$LAB_DIR/mip.sh"
LIFETIME=12 # short, so renewals (80 %) show an HA restart quickly

pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
nok() { echo "not ok - $*"; fail=$((fail + 1)); }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
note() { echo "# $*"; }
lab() { "$LAB_DIR/lab.sh" "$@"; }
inns() { local ns=$1; shift; ip netns exec "${LAB_PREFIX}$ns" "$@"; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -d "$LAB_STATE" ] && lab down >/dev/null 2>&1
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS CMD...: poll every 0.2 s
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@" >/dev/null 2>&1
}

[ -x "$MIPD" ] && [ -x "$MOBCTL" ] || { echo "build $MIPD and $MOBCTL first"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }

lab up >/dev/null 2>&1 || { nok "lab up"; exit 1; }
S=$LAB_STATE/mipd
mip_dir

# ---------------------------------------------------------------- configs
mip_key "$S/mn.key"
mip_key "$S/wrong.key"
mip_ha_conf "$S/ha.conf"
mip_fa_conf "$S/fa.conf"
mip_mn_conf "$S/mn.conf" "$S/mn.key" "$LIFETIME"
mip_mn_conf "$S/mn-wrong.conf" "$S/wrong.key" "$LIFETIME"
for r in ha fa mn mn-wrong; do
	check "mipd -t accepts the generated $r config" \
		sh -c "'$MIPD' -t -c '$S/$r.conf' >/dev/null"
done

# ---------------------------------------------------------------- helpers
# ctl, jget, mode_is, ha_coa*, fa_has_mn, mn_lease, flowing, no_error and
# the TCP echo/gap scripts come from mip.sh
mip_helpers

# ---------------------------------------------------------------- start
lab spawn ha cap-ha tcpdump -Z root -U -n -i ha0 -w "$S/ha.pcap" udp port 434 >/dev/null 2>&1
lab spawn fa cap-fa tcpdump -Z root -U -n -i br-fa -w "$S/fa.pcap" udp port 434 >/dev/null 2>&1
lab spawn ha mipd-ha "$MIPD" -c "$S/ha.conf" >/dev/null 2>&1
lab spawn fa mipd-fa "$MIPD" -c "$S/fa.conf" >/dev/null 2>&1
check "HA answers on its control socket" wait_for 5 ctl ha status
check "FA answers on its control socket" wait_for 5 ctl fa status
lab move home >/dev/null 2>&1
lab spawn mn mipd-mn "$MIPD" -c "$S/mn.conf" >/dev/null 2>&1
check "MN at home: mode home" wait_for 10 mode_is home
check "MN at home: no binding at the HA" wait_for 5 ha_coa_is ""

lab spawn mn echo-srv-mn "$PY" "$S/echo.py" server "$HOA" 5001 >/dev/null 2>&1
lab spawn srv echo-srv-srv "$PY" "$S/echo.py" server "$SRV" 5002 >/dev/null 2>&1
sleep 0.5
IN=$S/in.log OUT=$S/out.log # srv -> MN, MN -> srv
lab spawn srv echo-cl-srv "$PY" "$S/echo.py" client "$HOA" 5001 - "$IN" >/dev/null 2>&1
lab spawn mn echo-cl-mn "$PY" "$S/echo.py" client "$SRV" 5002 "$HOA" "$OUT" >/dev/null 2>&1
check "TCP srv -> MN home address flowing" wait_for 5 flowing "$IN"
check "TCP MN home address -> srv flowing" wait_for 5 flowing "$OUT"

# move NET MODE: re-plug, wait for the mode and both sessions, print gaps
declare -A GAPS
move() {
	local net=$1 mode=$2 t0 t1 gi go
	t0=$("$PY" -c 'import time; print(time.time())')
	lab move "$net" >/dev/null 2>&1
	check "move $net: MN mode $mode" wait_for 25 mode_is "$mode"
	check "move $net: srv -> MN session resumes" wait_for 30 flowing "$IN"
	check "move $net: MN -> srv session resumes" wait_for 30 flowing "$OUT"
	t1=$("$PY" -c 'import time; print(time.time())')
	gi=$("$PY" "$S/gap.py" "$IN" "$t0" "$t1")
	go=$("$PY" "$S/gap.py" "$OUT" "$t0" "$t1")
	GAPS[$net]="in ${gi#GAP } s, out ${go#GAP } s"
	note "handover gap ->$net (mode $mode): srv->MN ${gi#GAP } s, MN->srv ${go#GAP } s"
}

move dhcp c
LEASE=$(mn_lease)
check "mode c: mobctl status shows CoA $LEASE" \
	wait_for 5 sh -c "'$MOBCTL' -s '$S/mn.sock' mipd status | grep -q 'coa: $LEASE'"
check "mode c: HA binding $HOA -> $LEASE" wait_for 5 ha_coa_is "${LEASE:-none}"
check "mode c: dhcpcd pid reported" sh -c "'$MOBCTL' -s '$S/mn.sock' mipd status | grep -Eq 'dhcp_pid: [1-9]'"

move fa f
check "mode f: HA binding $HOA -> $FACOA" wait_for 5 ha_coa_is "$FACOA"
check "mode f: FA visitor list shows $HOA" wait_for 5 fa_has_mn

move home home
check "home: deregistered, HA binding cache empty" wait_for 5 ha_coa_is ""

# ---------------------------------------------------------------- HA restart
lab move dhcp >/dev/null 2>&1
check "away again: mode c" wait_for 25 mode_is c
check "away again: binding at the HA" wait_for 5 ha_coa_in "10.20.0.*"
lab stop mipd-ha >/dev/null 2>&1
t0=$("$PY" -c 'import time; print(time.time())')
lab spawn ha mipd-ha "$MIPD" -c "$S/ha.conf" >/dev/null 2>&1
check "HA restarted" wait_for 5 ctl ha status
check "HA restart: MN re-registers within its schedule (lifetime $LIFETIME s)" \
	wait_for $((LIFETIME + 10)) ha_coa_in "10.20.0.*"
check "HA restart: srv -> MN session survives" wait_for 30 flowing "$IN"
check "HA restart: MN -> srv session survives" wait_for 30 flowing "$OUT"
t1=$("$PY" -c 'import time; print(time.time())')
note "HA restart gap: srv->MN $("$PY" "$S/gap.py" "$IN" "$t0" "$t1" | cut -d' ' -f2) s," \
	"MN->srv $("$PY" "$S/gap.py" "$OUT" "$t0" "$t1" | cut -d' ' -f2) s"
# deregistration at home goes straight to the HA; the FA's entry lapses
# with its lifetime (RFC 5944 3.6.1.1), long past by now
check "FA visitor entry for $HOA gone after its lifetime" \
	wait_for 10 sh -c "! '$MOBCTL' -s '$S/fa.sock' mipd visitors | grep -q '$HOA'"
check "no reset or error on srv -> MN session" no_error "$IN"
check "no reset or error on MN -> srv session" no_error "$OUT"
for n in dhcp fa home; do note "gap summary ->$n: ${GAPS[$n]:-?}"; done

# ---------------------------------------------------------------- clock skew
lab stop echo-cl-mn >/dev/null 2>&1
lab stop echo-cl-srv >/dev/null 2>&1
lab stop mipd-mn >/dev/null 2>&1
lab spawn mn mipd-mn-skew env MIPD_TEST_CLOCK_SKEW=-3600 "$MIPD" -c "$S/mn.conf" >/dev/null 2>&1
SKEWLOG=$LAB_STATE/log/mipd-mn-skew.log
check "clock skew: the HA answers 133 and the MN resynchronises" \
	wait_for 25 grep -q "code 133).*resynchronised" "$SKEWLOG"
check "clock skew: then registers (mode c, binding at the HA)" \
	wait_for 10 sh -c "[ \"\$('$MOBCTL' -s '$S/mn.sock' --json mipd status | grep -o '\"mode\":\"[a-z]*\"')\" = '\"mode\":\"c\"' ]"
check "clock skew: binding at the HA" wait_for 5 ha_coa_in "10.20.0.*"
lab stop mipd-mn-skew >/dev/null 2>&1

# ---------------------------------------------------------------- wrong key
lab spawn mn mipd-mn-wrong "$MIPD" -c "$S/mn-wrong.conf" >/dev/null 2>&1
WLOG=$LAB_STATE/log/mipd-mn-wrong.log
check "wrong key: MN log says the MN-HA key is wrong" \
	wait_for 25 grep -q "MN-HA key (SPI 256) is wrong" "$WLOG"
check "wrong key: MN stops registering (auth-failed)" \
	wait_for 5 sh -c "'$MOBCTL' -s '$S/mn.sock' mipd status | grep -q 'registration: auth-failed'"
lab stop mipd-mn-wrong >/dev/null 2>&1

# ---------------------------------------------------------------- replay
# The first accepted co-located request from the pcap, resent from [srv].
cat >"$S/replay.py" <<'EOF'
import socket, struct, sys
pcap, ha = sys.argv[1], sys.argv[2]
d = open(pcap, "rb").read()
off, rrq = 24, None
while off + 16 <= len(d):
    incl = struct.unpack("<I", d[off + 8:off + 12])[0]
    pkt = d[off + 16:off + 16 + incl]; off += 16 + incl
    if len(pkt) < 14 or pkt[12:14] != b"\x08\x00": continue
    ip = pkt[14:]; ihl = (ip[0] & 15) * 4
    if ip[9] != 17: continue
    udp = ip[ihl:]; payload = udp[8:]
    if struct.unpack("!H", udp[2:4])[0] == 434 and payload[:1] == b"\x01" \
       and socket.inet_ntoa(ip[12:16]).startswith("10.20.0."):
        rrq = payload; break
if rrq is None: print("NORRQ"); sys.exit(1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(rrq, (ha, 434))
r = s.recv(2048)
print("CODE", r[1])
EOF
sleep 1
REPLAY=$(inns srv "$PY" "$S/replay.py" "$S/ha.pcap" "$HA" 2>&1)
check "replayed request rejected with 133 (got: $REPLAY)" [ "$REPLAY" = "CODE 133" ]

# ---------------------------------------------------------------- tshark
sleep 1
DEC=$S/decoded.txt
for f in ha fa; do
	tshark -r "$S/$f.pcap" -d udp.port==434,mip -T fields -E separator='|' \
		-e ip.src -e ip.dst -e mip.type -e mip.t -e mip.d -e mip.life \
		-e mip.homeaddr -e mip.haaddr -e mip.coa -e mip.code \
		-Y mip 2>/dev/null
done >"$DEC"
has() { grep -Eq "$1" "$DEC"; }
L=${LEASE//./\\.}
check "tshark decodes registration messages ($(wc -l <"$DEC") decoded)" [ -s "$DEC" ]
check "tshark: co-located RRQ, T and D set, lifetime $LIFETIME, HoA, HA, CoA $LEASE" \
	has "^$L\|10\.10\.0\.2\|1\|(1|True)\|(1|True)\|$LIFETIME\|10\.10\.0\.100\|10\.10\.0\.2\|$L\|"
check "tshark: accepted reply (code 0) to the co-located CoA" \
	has "^10\.10\.0\.2\|$L\|3\|\|\|$LIFETIME\|10\.10\.0\.100\|10\.10\.0\.2\|\|0$"
check "tshark: RRQ via the FA with CoA $FACOA, T set (on the FA's link)" \
	has "^10\.10\.0\.100\|10\.30\.0\.1\|1\|(1|True)\|(0|False)\|$LIFETIME\|10\.10\.0\.100\|10\.10\.0\.2\|10\.30\.0\.1\|"
check "tshark: deregistration at home (lifetime 0, CoA = HoA)" \
	has "^10\.10\.0\.100\|10\.10\.0\.2\|1\|[^|]*\|[^|]*\|0\|10\.10\.0\.100\|10\.10\.0\.2\|10\.10\.0\.100\|"
check "tshark: reply code 131 (wrong key)" has "\|3\|[^|]*\|[^|]*\|0\|10\.10\.0\.100\|10\.10\.0\.2\|\|131$"
check "tshark: reply code 133 (clock skew / replay)" has "\|3\|[^|]*\|[^|]*\|0\|10\.10\.0\.100\|10\.10\.0\.2\|\|133$"
