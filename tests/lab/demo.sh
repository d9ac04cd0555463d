#!/bin/bash
# demo.sh - `make demo`: the seed-002 lab with the strongSwan baseline, narrated.
#   1. bring the Figure 1 topology up (tests/lab/topology.sh)
#   2. the MN on external network ext1: DHCP, IKEv2 tunnel to the VPN gateway
#      in the DMZ, ping the correspondent node srv on the intranet
#   3. the firewall in between only lets IKE/ESP through
#   4. the MN moves to the internal DHCP-only subnet: lease, ping srv directly
#   5. teardown (also on failure or ^C)
# Env: LAB_PREFIX (default demo<pid>-), B (build dir, unused by the baseline).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/topology.sh"
export LAB_PREFIX=${LAB_PREFIX:-demo$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab

lab() { timeout 90 "$HERE/lab.sh" "$@"; }
mn() { timeout 30 ip netns exec "${LAB_PREFIX}mn" "$@"; }
step() { printf '\n=== %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }
indent() { sed 's/^/    | /'; }

cleanup() {
	local rc=$?
	step "teardown"
	lab down 2>&1 | indent || true
	[ "$rc" -eq 0 ] && echo "demo finished" || echo "demo FAILED (rc $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (network namespaces)" >&2; exit 1; }

step "1. bring up the lab (seed 002 Figure 1), prefix $LAB_PREFIX"
sed -n '/^# *EXTERNAL /,/^# *10\.99\.0\.0/p' "$HERE/topology.sh" | sed 's/^#//'
lab up 2>&1 | indent
lab status 2>/dev/null | sed -n '/charon-gw\|dnsmasq/p' | indent

step "2. the MN is plugged into ext1 (external, DHCP from the internet router)"
lab move ext1 2>&1 | indent
say "dhcpcd on mn0:"
lab dhcp 2>&1 | indent
mn ip -br addr show dev mn0 | indent

step "   start the MN's strongSwan client and bring the VPN up to the gateway $GW_OUT4"
lab charon mn start 2>&1 | indent
lab swanctl mn --initiate --child intranet --timeout 20 |
	grep -E 'selected proposal|virtual IP|established|completed' | indent
say "swanctl --list-sas on the MN:"
lab swanctl mn --list-sas | indent
vip=$(lab swanctl mn --list-sas --raw | sed -n 's/.*local-vips=\[\([0-9.]*\).*/\1/p' | head -1)

step "   ping srv ($SRV4, $SRV6) on the intranet through the tunnel, from the virtual IP $vip"
mn ping -c 3 -i 0.3 -W 2 -I "$vip" "$SRV4" | tail -2 | indent
mn ping -6 -c 3 -i 0.3 -W 2 "$SRV6" | tail -2 | indent

step "3. the firewall: only IKE/ESP to the gateway get in from outside"
if mn ping -c 2 -i 0.3 -W 1 "$GW_OUT4" >/dev/null 2>&1; then
	say "UNEXPECTED: ping to the gateway's outside address $GW_OUT4 got through"
	exit 1
fi
say "ping $GW_OUT4 from the MN: no answer (dropped by the firewall), yet IKE worked"
ip netns exec "${LAB_PREFIX}fw" nft list chain inet labfw forward | indent

step "4. the MN moves into the enterprise: internal DHCP-only subnet (access mode c)"
say "stop the VPN client first (a direct intranet address needs no tunnel)"
lab charon mn stop 2>&1 | indent
lab move dhcp 2>&1 | indent
lab dhcp 2>&1 | indent
mn ip -br addr show dev mn0 | indent
say "ping srv directly (no tunnel):"
mn ping -c 3 -i 0.3 -W 2 "$SRV4" | tail -2 | indent
mn ping -6 -c 3 -i 0.3 -W 2 "$SRV6" | tail -2 | indent
