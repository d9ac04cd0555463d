#!/bin/bash
# test_mobiked.sh - mobiked (IKEv2 initiator + userspace ESP) against the
# lab's real strongSwan gateway:
#
#   [mn] mobiked --ext1 (DHCP)--[inet]--[fw]--[gw strongSwan]--[int]--[srv]
#                --ext2 (DHCP, behind [nat])--+
#
#   (a) ext1, IPv4 outer, aes256gcm16-prfsha384-x25519: established, TIA4 and
#       TIA6 from the pools and the gw's DNS servers (SRV4, SRV6) in
#       `mobctl --json mobiked status`; ping + TCP (iperf3) from the TIA, ping6
#       from the TIA6 with the CHILD_SA counters growing; gw shows the
#       proposal; `mobctl mobiked down` -> the gw's SA is gone; `up` -> back;
#       the gw deletes the IKE SA (swanctl --terminate) -> mobiked sees it and
#       re-establishes (start_action = "start")
#   (b) aes256-sha256-modp2048 (CBC), same checks
#   (c) IPv6 outer address
#   (g) wrong PSK: a log line naming the gw and AUTHENTICATION_FAILED, the
#       attempts spaced as the retransmit config says and stopped after
#       keyingtries, ~no CPU meanwhile; PSK fixed + restart -> established
#   (d) behind NAT (ext2): NAT detected, ping and TCP, NAT keepalives
#       (1-byte 0xff on UDP 4500, keepalive = 1) in the capture
#   (e) DPD: gw charon killed -> SA dead within dpd_delay + the retransmission
#       waits (computed from the config) + slack; gw back -> mobiked
#       re-establishes by itself; SIGTERM -> DELETE, gw SA gone
#   (f) every captured IKE packet decodes in tshark without malformed/expert
#       errors
# Prints "ok - ..." / "not ok - ..." and "N passed, M failed".  Needs root.
# B = build dir (default build).  LAB_TEST_PREFIX overrides the prefix.
set -uo pipefail

. "$(dirname "$0")/testlib.sh" # check, wait_for, lab, in_ns, teardown; topology.sh
. "$LAB_DIR/mobiked_lib.sh"    # mobiked_conf, start_mobiked, field, tshark_clean, ...
export LAB_PREFIX=${LAB_TEST_PREFIX:-m$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
FAIL_LOGS=("$LAB_STATE"/log/mobiked.log "$LAB_STATE"/gw/charon.log)
test_start
need_built mobiked mobctl
WORK=$(mktemp -d "/tmp/${LAB_PREFIX}mobiked.XXXXXX")

# check, and show what was measured (the command's output) as comments
measure() {
	local f=$failed
	check "$@"
	[ "$failed" != "$f" ] || grep -v '^#' "$CHECK_OUT" | tail -6 | sed 's/^/#   /' >&3
}

# ---------------------------------------------------------------- helpers
# The schedule every bound below is computed from (mobiked_conf writes
# RT_*, DPD_DELAY and KEEPALIVE into the config).
RT_TIMEOUT=1.0 RT_BASE=1.5 RT_TRIES=3 DPD_DELAY=5
KEEPALIVE=20 KEYINGTRIES=0
write_conf() {   # GATEWAY IKE_PROPOSAL ESP_PROPOSAL
	mobiked_conf "$@" "request_dns = true;" "keyingtries = $KEYINGTRIES;"
}
# Seconds: the waits of one request's whole retransmission schedule,
# timeout * base^n for n = 0..tries (the last one ends in giving up).
rt_total() { python3 -c "t,b,n=$RT_TIMEOUT,$RT_BASE,$RT_TRIES; print(sum(t*b**i for i in range(n+1)))"; }
# The wait before failed attempt k+1 (k = 1, 2, ...): timeout * base^(k-1).
retry_wait() { python3 -c "print(min($RT_TIMEOUT*$RT_BASE**($1-1), 60))"; }
not_established() { [ "$(field "r['ike_sa']")" != ESTABLISHED ]; }
spi_i() { field "r['spi_i']" 2>/dev/null; }
counter() { field "r['child_sa']['counters']['$1']"; }
in_pool6() { python3 -c "import ipaddress,sys; sys.exit(ipaddress.ip_address('$1') not in ipaddress.ip_network('$POOL6'))"; }
tia_and_dns() {   # TIA4 in POOL4, TIA6 in POOL6, DNS = the gw pools' SRV4, SRV6
	local v6 dns
	v6=$(tia6)
	dns=$(field "','.join(r['dns'])")
	echo "tia4 $(tia4) tia6 $v6 dns $dns"
	case "$(tia4)" in 10.99.0.*) ;; *) return 1 ;; esac
	[ -n "$v6" ] && in_pool6 "$v6" && [ "$dns" = "$SRV4,$SRV6" ]
}
ping6_from_tia6() {   # 3 echo requests out and 3 replies in, on the CHILD_SA
	local in0 out0 in1 out1
	in0=$(counter in_packets) out0=$(counter out_packets)
	in_ns mn ping -6 -c 3 -W 2 -I "$(tia6)" "$SRV6" || return 1
	in1=$(counter in_packets) out1=$(counter out_packets)
	echo "CHILD_SA packets in $in0 -> $in1, out $out0 -> $out1"
	[ $((in1 - in0)) -ge 3 ] && [ $((out1 - out0)) -ge 3 ]
}
up_again() { mobctl mobiked up && wait_for 15 established && ping_from_tia; }
gw_terminates() {   # the gw's own DELETE; mobiked re-establishes (new SPIs)
	local old; old=$(spi_i)
	lab swanctl gw --terminate --ike rw || return 1
	wait_for 10 grep -q "gateway deleted the IKE SA" "$LAB_STATE/log/mobiked.log" || return 1
	wait_for 15 established || return 1
	echo "IKE SA $old -> $(spi_i)"
	[ "$(spi_i)" != "$old" ]
}
gw_has_proposal() { gw_sas | tee /dev/stderr | grep -q "$1"; }
ping6_srv() { in_ns mn ping -6 -c 3 -W 2 "$SRV6"; }
tcp_stream() { in_ns mn iperf3 -c "$SRV4" -B "$(tia4)" -t 2; }
nat_local() { [ "$(field "r['nat']['local']")" = True ]; }
gw_killed() {   # our own lab's gateway, by its recorded PID and start time
	local pid
	pid=$(recorded_pid charon-gw) || return 1
	kill -9 "$pid" && rm -f "$LAB_STATE/pids/charon-gw.pid"
}
# Inbound silence for dpd_delay, then the DPD request's whole retransmission
# schedule; 3 s slack for the polling and the last answer seen before the kill.
dpd_bound() { python3 -c "import math; print(math.ceil($DPD_DELAY + $(rt_total) + 3))"; }
dpd_detects() {
	local t0=$SECONDS bound; bound=$(dpd_bound)
	wait_for "$bound" not_established || { echo "still up after $bound s"; return 1; }
	echo "dead after $((SECONDS - t0)) s (bound $bound s)"
}
keepalives() {   # 1-byte UDP payloads 0xff to port 4500 in the capture
	tcpdump -r "$WORK/ike.pcap" -nn 'udp dst port 4500 and udp[4:2] = 9 and udp[8] = 0xff' 2>/dev/null | wc -l
}
keepalives_seen() {   # idle: at least 3 in 6 s with keepalive = 1
	local k0 k1; k0=$(keepalives); sleep 6; k1=$(keepalives)
	echo "NAT keepalives in the capture: $k0 -> $k1"
	[ $((k1 - k0)) -ge 3 ]
}

# ---------------------------------------------------------------- (g) wrong PSK
# Times (s since midnight, ms resolution) of our IKE_SA_INIT requests.
init_times() {
	grep 'sending IKE_SA_INIT request' "$LAB_STATE/log/mobiked.log" |
		awk '{split($1, t, ":"); printf "%.3f\n", t[1]*3600 + t[2]*60 + t[3]}'
}
auth_failed_logged() {
	grep -E "IKE_AUTH with gateway $GW_OUT4: AUTHENTICATION_FAILED" "$LAB_STATE/log/mobiked.log"
}
attempts() { init_times | wc -l; }
# Attempt k+1 follows attempt k after retry_wait(k) plus the exchange's own
# round trips (< 0.7 s in the lab), never sooner.
spacing_per_config() {
	local k=1 prev="" t gap want
	for t in $(init_times); do
		if [ -n "$prev" ]; then
			gap=$(python3 -c "print(round($t - $prev, 3))")
			want=$(retry_wait "$k")
			echo "attempt $k -> $((k + 1)): ${gap} s (retry wait $want s)"
			python3 -c "import sys; sys.exit(not ($want - 0.05 <= $gap <= $want + 0.7))" || return 1
			k=$((k + 1))
		fi
		prev=$t
	done
	[ "$k" -eq "$KEYINGTRIES" ]
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(recorded_pid mobiked)/stat"; }
idle_while_retrying() {   # utime+stime over 3 s of the retry waits
	local c0 c1; c0=$(cpu_ticks); sleep 3; c1=$(cpu_ticks)
	echo "mobiked used $((c1 - c0)) clock ticks in 3 s ($(getconf CLK_TCK)/s)"
	[ $((c1 - c0)) -le 5 ]
}
stopped_after_keyingtries() {   # no attempt beyond keyingtries, even later
	wait_for 20 grep -q "giving up after $KEYINGTRIES failed attempts" "$LAB_STATE/log/mobiked.log" || return 1
	sleep "$(retry_wait "$KEYINGTRIES")"
	echo "$(attempts) IKE_SA_INIT requests"
	[ "$(attempts)" -eq "$KEYINGTRIES" ] && [ "$(field "r['want_up']")" = False ]
}

# ---------------------------------------------------------------- (a) GCM
say "# lab prefix $LAB_PREFIX, build $B"
check "lab.sh up" lab up
check "MN lease on ext1" lab dhcp
capture_ike >/dev/null 2>&1
lab spawn srv iperf3 iperf3 -s >/dev/null 2>&1
write_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16
check "mobiked -t accepts the generated config" mobiked_t
start_mobiked >/dev/null 2>&1
check "IKE SA established with a TIA (ext1, IPv4, GCM)" wait_for 15 established
measure "status: TIA4 + TIA6 from the pools, DNS $SRV4 + $SRV6 from the gw" tia_and_dns
check "ping srv from the TIA $(tia4)" ping_from_tia
measure "ping6 srv from the TIA6 $(tia6), CHILD_SA counters +3 each way" ping6_from_tia6
check "TCP stream (iperf3 2 s) from the TIA to srv" tcp_stream
check "gw lists the SA with AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519" \
	gw_has_proposal "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519"
check "mobctl mobiked down: the gw's SA is gone" down_and_gone
check "mobctl mobiked up after down: established again, ping" up_again
measure "gw deletes the IKE SA (swanctl --terminate): mobiked re-establishes" gw_terminates
check "ping srv after the gw's delete" ping_from_tia
stop_mobiked >/dev/null 2>&1

# ---------------------------------------------------------------- (b) CBC
write_conf "$GW_OUT4" aes256-sha256-modp2048 aes256-sha256
start_mobiked >/dev/null 2>&1
check "IKE SA established (aes256-sha256-modp2048)" wait_for 15 established
check "gw lists AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048" \
	gw_has_proposal "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"
check "ping srv from the TIA (CBC)" ping_from_tia
check "TCP stream from the TIA (CBC)" tcp_stream
stop_mobiked >/dev/null 2>&1
check "SIGTERM sends DELETE: the gw's SA is gone" wait_for 10 gw_no_sa

# ---------------------------------------------------------------- (c) IPv6 outer
write_conf "$GW_OUT6" aes256gcm16-prfsha384-x25519 aes256gcm16
start_mobiked >/dev/null 2>&1
check "IKE SA established over IPv6 ($GW_OUT6)" wait_for 15 established
check "gw sees the MN's IPv6 outer address" gw_has_proposal "fd00:16:1:"
check "ping6 srv through the tunnel" ping6_srv
stop_mobiked >/dev/null 2>&1

# ---------------------------------------------------------------- (g) wrong PSK
: >"$LAB_STATE/log/mobiked.log"
MOBIKED_PSK='not-the-gateways-psk' KEYINGTRIES=5
write_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16
start_mobiked >/dev/null 2>&1
check "wrong PSK: log names the gw $GW_OUT4 and AUTHENTICATION_FAILED" wait_for 10 auth_failed_logged
measure "wrong PSK: no busy loop while waiting to retry (CPU over 3 s)" idle_while_retrying
check "wrong PSK: stops after keyingtries = $KEYINGTRIES attempts" stopped_after_keyingtries
measure "wrong PSK: attempts spaced timeout * base^n ($RT_TIMEOUT * $RT_BASE^n)" spacing_per_config
check "wrong PSK: never established" not_established
stop_mobiked >/dev/null 2>&1
MOBIKED_PSK='lab-only-psk-not-a-secret' KEYINGTRIES=0
write_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16
start_mobiked >/dev/null 2>&1
check "PSK fixed, mobiked restarted: established" wait_for 15 established
stop_mobiked >/dev/null 2>&1

# ---------------------------------------------------------------- (d) NAT
lab move ext2 >/dev/null 2>&1
check "MN lease on ext2 (behind NAT)" lab dhcp -4
KEEPALIVE=1
write_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16
start_mobiked >/dev/null 2>&1
check "IKE SA established behind NAT" wait_for 15 established
check "NAT detected on our side" nat_local
check "ping srv from the TIA behind NAT" ping_from_tia
check "TCP stream (iperf3 2 s) from the TIA behind NAT" tcp_stream
measure "NAT keepalives (0xff on UDP 4500) every keepalive = 1 s when idle" keepalives_seen

# ---------------------------------------------------------------- (e) DPD
check "gw charon killed (SIGKILL, no DELETE)" gw_killed
measure "DPD declares the SA dead within dpd_delay + the retransmission waits + 3 s" dpd_detects
check "gw charon restarted" lab charon gw start
check "mobiked re-establishes by itself" wait_for 40 established
check "ping srv after re-establishing" ping_from_tia
stop_mobiked >/dev/null 2>&1
check "SIGTERM: the gw's SA is gone" wait_for 10 gw_no_sa

# ---------------------------------------------------------------- (f) tshark
stop_capture >/dev/null 2>&1
check "tshark decodes every IKE packet without malformed/expert errors" tshark_clean

test_end
