#!/bin/bash
# lab.sh - the seed-002 Figure 1 lab in network namespaces (see topology.sh).
#
#   lab.sh up                     build everything, start dnsmasq x4 and the gw charon
#   lab.sh down                   stop what this run started, delete its namespaces + state
#   lab.sh move ext1|ext2|home|dhcp|fa|inat   re-plug the MN (flushes mn0)
#   lab.sh dhcp [-4]              run dhcpcd on mn0 (in the mn ns) and wait for a lease
#   lab.sh charon gw|mn start|stop    the gateway / MN-client strongSwan daemons
#   lab.sh swanctl gw|mn ARGS...  swanctl against that daemon (e.g. --list-sas)
#   lab.sh exec NS CMD...         run CMD in namespace NS (short name: mn, gw, ...)
#   lab.sh spawn NS NAME CMD...   start CMD in NS in the background, record its PID as NAME
#   lab.sh stop NAME              stop a recorded process
#   lab.sh signal NAME SIG        send SIG (e.g. STOP, CONT) to a recorded process
#   lab.sh ns NAME                print the real namespace name (e.g. l3f2a-gw)
#   lab.sh status                 namespaces, processes, where the MN is, its addresses
#
# Env: LAB_PREFIX  per-run name prefix (default for `up`: l<4 random hex>-);
#                  other commands find the one running lab if it is unset
#      LAB_STATE   state dir (default /tmp/${LAB_PREFIX}lab)
#      LAB_KEEP_STATE=1  `down` keeps the state dir (logs) instead of deleting it
#      LAB_GW_CHILD_REKEY / LAB_GW_IKE_REKEY  the gateway's children / IKE
#                  rekey_time (e.g. 20s); unset: strongSwan's defaults
#      LAB_FAIL_AT=STEP  (tests) make `up` fail after STEP: topology,
#                  dnsmasq-ext1|ext2|dhcp|inat, charon-gw
#
# Processes are only ever stopped by recorded PID (checked against the
# process start time, so a recycled PID is never hit) or because they live in
# one of this run's own namespaces (/proc/PID/ns/net is one of them: the run
# started them, directly or not).  Never by name.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=topology.sh
. "$LAB_DIR/topology.sh"

CHARON=/usr/sbin/charon-systemd
PSK="lab-only-psk-not-a-secret"

log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------ run identity
# Find the prefix: env, else the state dir's record, else (for `up`) a new
# random one, else the single lab whose namespaces exist.
lab_identify() {
	local cmd=$1 f p found=()
	if [ -z "${LAB_PREFIX:-}" ] && [ -n "${LAB_STATE:-}" ] && [ -f "$LAB_STATE/prefix" ]; then
		LAB_PREFIX=$(cat "$LAB_STATE/prefix")
	fi
	if [ -z "${LAB_PREFIX:-}" ]; then
		if [ "$cmd" = up ]; then
			LAB_PREFIX="l$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-"
		else
			for f in /tmp/*lab/prefix; do
				[ -f "$f" ] || continue
				p=$(cat "$f")
				[ -e "/run/netns/${p}mn" ] && found+=("$p")
			done
			[ "${#found[@]}" -eq 1 ] ||
				die "set LAB_PREFIX (running labs: ${found[*]:-none})"
			LAB_PREFIX=${found[0]}
		fi
	fi
	[[ "$LAB_PREFIX" =~ ^[A-Za-z0-9_.-]{1,24}$ ]] || die "bad LAB_PREFIX '$LAB_PREFIX'"
	LAB_STATE=${LAB_STATE:-/tmp/${LAB_PREFIX}lab}
	export LAB_PREFIX LAB_STATE
}

ns_exists() { [ -e "/run/netns/$1" ]; }

ns_inode() { stat -L -c %i "/run/netns/$1"; }

# Called by topo_build: create and record (teardown deletes only recorded
# ones).  ns.inodes ("NAME INODE") outlives a LAB_KEEP_STATE teardown, so a
# test can still look for processes in the deleted namespaces.
ns_create() {
	local ns; ns=$(N "$1")
	ns_exists "$ns" && die "namespace $ns already exists"
	echo "$ns" >>"$LAB_STATE/namespaces"
	ip netns add "$ns"
	echo "$ns $(ns_inode "$ns")" >>"$LAB_STATE/ns.inodes"
}

# ------------------------------------------------------------ processes
# pids/NAME.pid holds "PID STARTTIME NS" while NAME runs; pids.history keeps
# "NAME PID STARTTIME NS" of everything ever started.  STARTTIME (field 22 of
# /proc/PID/stat) makes the record unambiguous if the PID is ever reused.
proc_starttime() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }                     # comm may contain spaces
	set -- $s
	[ "$1" != Z ] || return 1        # a zombie is dead for our purposes
	echo "${20}"
}

# pid_alive PID STARTTIME
pid_alive() { local t; t=$(proc_starttime "$1") && [ "$t" = "$2" ]; }

record_pid() {   # NAME PID NS
	local t
	t=$(proc_starttime "$2") || t=gone
	echo "$2 $t $3" >"$LAB_STATE/pids/$1.pid"
	# every process this run ever started, for tests that check teardown
	echo "$1 $2 $t $3" >>"$LAB_STATE/pids.history"
}

# spawn_record NS NAME CMD...: background CMD in NS, output to log/NAME.log.
# `ip netns exec` execs CMD, so $! is the daemon itself (keep CMD exec-ing:
# env/unshare/sh -c 'exec ...', no wrappers that fork).
spawn_record() {
	local ns=$1 name=$2 pid
	shift 2
	[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad process name '$name'"
	if running "$name"; then die "$name is already running"; fi
	# no inherited descriptors: a daemon holding a caller's pipe open would
	# make e.g. $(lab.sh ...) or `| tee` wait until teardown
	ip netns exec "$(N "$ns")" "$@" </dev/null >>"$LAB_STATE/log/$name.log" 2>&1 \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	pid=$!
	record_pid "$name" "$pid" "$ns"
	log "started $name (pid $pid) in $(N "$ns")"
}

running() {   # NAME: is the recorded process alive?
	local f=$LAB_STATE/pids/$1.pid pid t rest
	[ -f "$f" ] || return 1
	read -r pid t rest <"$f"
	pid_alive "$pid" "$t"
}

kill_pid() {   # PID STARTTIME LABEL: TERM, up to 5 s, then KILL
	local pid=$1 t=$2 i
	pid_alive "$pid" "$t" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		pid_alive "$pid" "$t" || return 0
		sleep 0.1
	done
	log "$3 (pid $pid) ignored SIGTERM, sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

# ns_procs INODE...: "PID STARTTIME" of every process whose network
# namespace (/proc/PID/ns/net) is one of these, this script excepted.
ns_procs() {
	local pid t
	# (find fails on a PID that exits meanwhile)
	{ find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null || true; } |
		awk -v inos="$*" 'BEGIN { n = split(inos, a, " ")
				for (i = 1; i <= n; i++) want["net:[" a[i] "]"] = 1 }
			$2 in want { split($1, p, "/"); print p[3] }' |
		while read -r pid; do
			[ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
			t=$(proc_starttime "$pid") && echo "$pid $t"
		done || true
}

# kill_set WAIT LABEL: TERM every "PID STARTTIME NAME" on stdin that is still
# that process, up to WAIT tenths of a second for all of them, then KILL the
# rest (and up to 2 s more for them to go).
kill_set() {
	local wait=$1 label=$2 pid t name i left=() l
	while read -r pid t name; do
		pid_alive "$pid" "$t" || continue
		kill -TERM "$pid" 2>/dev/null || true
		left+=("$pid $t ${name:-pid}")
	done
	for i in $(seq $((wait + 20))); do
		l=("${left[@]}") left=()
		for pid in "${l[@]}"; do
			read -r pid t name <<<"$pid"
			pid_alive "$pid" "$t" && left+=("$pid $t $name")
		done
		[ "${#left[@]}" -gt 0 ] || return 0
		if [ "$i" = "$wait" ]; then
			for l in "${left[@]}"; do
				read -r pid t name <<<"$l"
				log "$name (pid $pid, $label) ignored SIGTERM, sending SIGKILL"
				kill -KILL "$pid" 2>/dev/null || true
			done
		fi
		sleep 0.1
	done
	log "still alive after SIGKILL ($label): ${left[*]}"
}

# ns_kill_all NS: end every process living in NS, before it is deleted.
# Rescans: a process may fork while it is being stopped.
ns_kill_all() {
	local ns=$1 ino procs pid t comm
	ino=$(ns_inode "$ns") || return 0
	for _ in 1 2 3; do
		procs=$(ns_procs "$ino")
		[ -n "$procs" ] || return 0
		while read -r pid t; do
			comm=$(cat "/proc/$pid/comm" 2>/dev/null) || comm=gone
			log "leftover pid $pid ($comm) in $ns"
			echo "$pid $t $comm"
		done <<<"$procs" | kill_set 20 "leftover in $ns"
	done
}

signal_recorded() {   # NAME SIG: only the recorded process, if still it
	local f=$LAB_STATE/pids/$1.pid pid t rest
	[ -f "$f" ] || die "$1 is not running"
	read -r pid t rest <"$f"
	pid_alive "$pid" "$t" || die "$1 is not running"
	kill -s "$2" "$pid"
}

stop_recorded() {   # NAME
	local f=$LAB_STATE/pids/$1.pid pid t rest
	[ -f "$f" ] || return 0
	read -r pid t rest <"$f"
	kill_pid "$pid" "$t" "$1"
	rm -f "$f"
}

# ------------------------------------------------------------ dnsmasq
# --no-ping: dnsmasq otherwise ICMP-pings an address before handing it out;
# with dnsmasq 2.90 the log showed the client's first DISCOVER unanswered
# and the lease only with its retransmission ~3 s later (most of the MN's
# mode-c handover gap).  A lab subnet has one client and a pool nothing else
# uses: there is no conflict to detect.
# --dhcp-rapid-commit: DISCOVER -> ACK (dhcpcd's `option rapid_commit`).
dnsmasq_start() {   # name ns bridge v4range v6range
	local name=$1 ns=$2 br=$3 v4=$4 v6=$5 i v6opts=()
	[ "$v6" = - ] || v6opts=(--dhcp-range="$v6,64,1h" --enable-ra)
	spawn_record "$ns" "dnsmasq-$name" dnsmasq --keep-in-foreground \
		--conf-file=/dev/null --no-resolv --no-hosts --port=0 --pid-file= \
		--user=root --bind-interfaces --interface="$br" \
		--dhcp-authoritative --dhcp-rapid-commit --no-ping \
		--dhcp-range="$v4,255.255.255.0,1h" "${v6opts[@]}" \
		--dhcp-leasefile="$LAB_STATE/dnsmasq/$name.leases" \
		--log-facility="$LAB_STATE/log/dnsmasq-$name.log" --log-dhcp
	# ready when it listens on the DHCP port
	for i in $(seq 50); do
		running "dnsmasq-$name" || die "dnsmasq-$name died (see $LAB_STATE/log/dnsmasq-$name.log)"
		ip netns exec "$(N "$ns")" ss -Hlun 'sport = :67' | grep -q . && return 0
		sleep 0.1
	done
	die "dnsmasq-$name does not listen"
}

# ------------------------------------------------------------ strongSwan
inst_ns() { case "$1" in gw | mn) echo "$1" ;; *) die "charon instance: gw or mn" ;; esac; }

swanctl_in() {   # gw|mn ARGS...
	local inst=$1
	shift
	timeout 60 ip netns exec "$(N "$(inst_ns "$inst")")" \
		env STRONGSWAN_CONF="$LAB_STATE/$inst/strongswan.conf" \
		SWANCTL_DIR="$LAB_STATE/$inst/swanctl" swanctl "$@"
}

# Self-contained strongswan.conf (no /etc/strongswan.d): explicit plugin list
# with kernel-libipsec BEFORE kernel-netlink (userspace ESP on TUN ipsec0,
# always UDP-encapsulated: this kernel has no ESP), vici socket and log file
# in the state dir (charon-systemd would log to the journal otherwise).
gen_strongswan_conf() {   # inst extra-charon-settings
	local d=$LAB_STATE/$1
	cat >"$d/strongswan.conf" <<EOF
# generated by tests/lab/lab.sh for the $1 instance of lab $LAB_PREFIX
charon {
	load_modular = no
	load = random nonce openssl aes sha1 sha2 hmac gcm gmp kdf pem pkcs1 pkcs8 x509 pubkey revocation constraints kernel-libipsec kernel-netlink socket-default vici
	install_routes = yes
	install_virtual_ip = yes
	# a lab should fail fast (default: 5 tries, 4 s, base 1.8)
	retransmit_tries = 3
	retransmit_timeout = 2.0
$2
	filelog {
		main {
			path = $d/charon.log
			time_format = %H:%M:%S
			time_add_ms = yes
			append = yes
			flush_line = yes
			ike_name = yes
			default = 1
			ike = 2
			knl = 2
			cfg = 1
		}
	}
	plugins {
		vici {
			socket = unix://$d/charon.vici
		}
		kernel-netlink {
			roam_events = yes
		}
	}
}
charon-systemd {
	journal {
		default = -1
	}
}
swanctl {
	socket = unix://$d/charon.vici
	load = random openssl pem pkcs1 pkcs8 x509 pubkey sha1 sha2
}
EOF
}

# proposals: what the gateway accepts, strongest first (IKE and ESP)
GW_IKE_PROPOSALS="aes256gcm16-prfsha384-x25519, aes256-sha256-modp2048, aes128gcm16-prfsha256-x25519"
GW_ESP_PROPOSALS="aes256gcm16-x25519, aes256gcm16, aes256-sha256-modp2048, aes256-sha256, aes128gcm16-x25519, aes128gcm16"
# what the MN client offers (override to test negotiation)
MN_IKE_PROPOSALS=${LAB_MN_IKE:-aes256gcm16-prfsha384-x25519}
MN_ESP_PROPOSALS=${LAB_MN_ESP:-aes256gcm16-x25519}

gen_gw_conf() {
	local d=$LAB_STATE/gw
	# Announce (MOBIKE ADDITIONAL_*_ADDRESS) and use only the outside
	# interface, not gw-in: the MN would otherwise path-probe the inside
	# addresses through its own tunnel.
	# LAB_GW_FRAGMENT_SIZE: a small IKE fragment size (RFC 7383) makes the
	# gw fragment its IKE_AUTH response, to test reassembly in clients.
	gen_strongswan_conf gw "	interfaces_use = gw-out${LAB_GW_FRAGMENT_SIZE:+
	fragment_size = $LAB_GW_FRAGMENT_SIZE}"
	cat >"$d/swanctl/swanctl.conf" <<EOF
# lab VPN gateway: roadwarrior responder, PSK, MOBIKE, virtual IPs
connections {
	rw {
		version = 2
		local_addrs = $GW_OUT4, $GW_OUT6
		pools = pool4, pool6
		mobike = yes
		# kernel-libipsec only does ESP-in-UDP; say so
		encap = yes
		proposals = $GW_IKE_PROPOSALS
		dpd_delay = 10s
${LAB_GW_IKE_REKEY:+		rekey_time = $LAB_GW_IKE_REKEY
}		local {
			auth = psk
			id = gw.lab
		}
		remote {
			auth = psk
			id = mn.lab
		}
		children {
			intranet {
				local_ts = $INTRANET4, $INTRANET6
				esp_proposals = $GW_ESP_PROPOSALS
				dpd_action = clear
${LAB_GW_CHILD_REKEY:+				rekey_time = $LAB_GW_CHILD_REKEY
}			}
		}
	}
}
pools {
	# DNS: the intranet server (INTERNAL_IP4_DNS / INTERNAL_IP6_DNS)
	pool4 {
		addrs = $POOL4
		dns = $SRV4
	}
	pool6 {
		addrs = $POOL6
		dns = $SRV6
	}
}
secrets {
	ike-mn {
		id-gw = gw.lab
		id-mn = mn.lab
		secret = "$PSK"
	}
}
EOF
}

gen_mn_conf() {
	local d=$LAB_STATE/mn
	gen_strongswan_conf mn ""
	cat >"$d/swanctl/swanctl.conf" <<EOF
# lab mobile node: VPN client (IKE over IPv4 to the gw's outside address)
connections {
	lab {
		version = 2
		remote_addrs = $GW_OUT4
		vips = 0.0.0.0, ::
		mobike = yes
		encap = yes
		proposals = $MN_IKE_PROPOSALS
		dpd_delay = 10s
		local {
			auth = psk
			id = mn.lab
		}
		remote {
			auth = psk
			id = gw.lab
		}
		children {
			intranet {
				remote_ts = $INTRANET4, $INTRANET6
				esp_proposals = $MN_ESP_PROPOSALS
			}
		}
	}
}
secrets {
	ike-gw {
		id-gw = gw.lab
		id-mn = mn.lab
		secret = "$PSK"
	}
}
EOF
}

charon_start() {   # gw|mn
	local inst=$1 d=$LAB_STATE/$1 i
	inst_ns "$inst" >/dev/null
	rm -f "$d/charon.vici"
	spawn_record "$inst" "charon-$inst" env STRONGSWAN_CONF="$d/strongswan.conf" "$CHARON"
	for i in $(seq 100); do
		[ -S "$d/charon.vici" ] && break
		running "charon-$inst" || die "charon-$inst died (see $d/charon.log)"
		sleep 0.1
	done
	[ -S "$d/charon.vici" ] || die "charon-$inst: no vici socket after 10 s"
	swanctl_in "$inst" --load-all --noprompt >"$LAB_STATE/log/swanctl-load-$inst.log" 2>&1 ||
		die "charon-$inst: swanctl --load-all failed (see $LAB_STATE/log/swanctl-load-$inst.log)"
	swanctl_in "$inst" --list-conns | grep -q . || die "charon-$inst: no connection loaded"
	log "charon-$inst ready (vici $d/charon.vici, log $d/charon.log)"
}

charon_stop() { stop_recorded "charon-$1"; rm -f "$LAB_STATE/$1/charon.vici"; }

# ------------------------------------------------------------ commands
cmd_up() {
	local l name ns br v4 v6
	[ -e "$LAB_STATE/namespaces" ] && die "$LAB_STATE exists: run 'lab.sh down' first"
	for l in "${TOPO_NS[@]}"; do
		ns_exists "$(N "$l")" && die "namespace $(N "$l") already exists"
	done
	mkdir -p "$LAB_STATE"/{pids,log,dnsmasq,gw/swanctl,mn/swanctl,mn/dhcpcd/run,mn/dhcpcd/lib}
	echo "$LAB_PREFIX" >"$LAB_STATE/prefix"
	# A failure (or ^C) half-way must not leave namespaces or daemons; a
	# second ^C must not cut the teardown short.
	trap 'rc=$?; trap - EXIT; trap "" INT TERM; log "up failed (rc $rc), tearing down"; cmd_down; exit $rc' EXIT
	trap 'exit 130' INT TERM

	log "building topology, prefix $LAB_PREFIX, state $LAB_STATE"
	topo_build
	echo ext1 >"$LAB_STATE/mn.attached"
	fail_point topology

	for l in "${TOPO_DHCP[@]}"; do
		read -r name ns br v4 v6 <<<"$l"
		dnsmasq_start "$name" "$ns" "$br" "$v4" "$v6"
		fail_point "dnsmasq-$name"
	done
	gen_gw_conf
	gen_mn_conf
	charon_start gw
	swanctl_in gw --list-pools | grep -q pool4 || die "gw pools not loaded"
	fail_point charon-gw

	trap - EXIT INT TERM
	log "lab up: export LAB_PREFIX=$LAB_PREFIX   (MN plugged into ext1, no address yet)"
}

fail_point() {   # STEP: the LAB_FAIL_AT test hook
	[ "${LAB_FAIL_AT:-}" != "$1" ] || die "LAB_FAIL_AT=$1: failing on purpose after $1"
}

# Recorded processes first (TERM all, up to 5 s, then KILL), then, before
# each namespace is deleted, whatever else still lives in it.
cmd_down() {
	local f pid t rest ns
	[ -d "$LAB_STATE" ] || { log "nothing to tear down ($LAB_STATE absent)"; return 0; }
	for f in "$LAB_STATE"/pids/*.pid; do
		[ -e "$f" ] || continue
		read -r pid t rest <"$f"
		echo "$pid $t $(basename "$f" .pid)"
	done | kill_set 50 recorded
	if [ -f "$LAB_STATE/namespaces" ]; then
		for ns in $(tac "$LAB_STATE/namespaces"); do
			# only names of this run (a corrupted file must not hit others)
			[[ "$ns" == "$LAB_PREFIX"* ]] || continue
			ns_exists "$ns" || continue
			ns_kill_all "$ns"
			ip netns del "$ns" || log "could not delete $ns"
		done
	fi
	if [ "${LAB_KEEP_STATE:-0}" = 1 ]; then
		rm -f "$LAB_STATE/namespaces" "$LAB_STATE"/pids/*.pid
		log "lab $LAB_PREFIX down (state kept in $LAB_STATE)"
	else
		rm -rf "$LAB_STATE"
		log "lab $LAB_PREFIX down"
	fi
}

mn_attached() { cat "$LAB_STATE/mn.attached"; }

# Re-plug the MN: like pulling the cable and plugging it into another
# network.  Stops the MN's dhcpcd (its lease belongs to the old network).
cmd_move() {
	local to=${1:-} cur curns ns br mode fam
	topo_access "$to" >/dev/null || die "move: one of $TOPO_ACCESS_NETS"
	read -r ns br mode fam <<<"$(topo_access "$to")"
	cur=$(mn_attached)
	read -r curns _ _ <<<"$(topo_access "$cur")"
	stop_recorded dhcpcd-mn
	# unplug: admin-down drops the routes, the flush the addresses
	ip -n "$(N mn)" link set mn0 down
	ip -n "$(N mn)" addr flush dev mn0 scope global
	ip -n "$(N "$curns")" link set mnp0 nomaster
	ip -n "$(N "$curns")" link set mnp0 down
	[ "$curns" = "$ns" ] || ip -n "$(N "$curns")" link set mnp0 netns "$(N "$ns")"
	# plug in
	ip -n "$(N "$ns")" link set mnp0 master "$br" up
	ip -n "$(N mn)" link set mn0 up
	echo "$to" >"$LAB_STATE/mn.attached"
	case "$mode" in
	static)
		ip -n "$(N mn)" addr add "$MN_HOME4/24" dev mn0
		ip -n "$(N mn)" addr add "$MN_HOME6/64" dev mn0 nodad
		ip -n "$(N mn)" route add default via "$HOME_R4" dev mn0
		ip -n "$(N mn)" -6 route add default via "$HOME_R6" dev mn0
		log "MN on $to ($br in $(N "$ns")): home address $MN_HOME4, $MN_HOME6"
		;;
	dhcp) log "MN on $to ($br in $(N "$ns")): run 'lab.sh dhcp' for a lease" ;;
	none) log "MN on $to ($br in $(N "$ns")): no addressing on this subnet" ;;
	esac
}

mn_addr() {   # -4|-6: the MN's first global address on mn0
	ip -n "$(N mn)" "$1" -o addr show dev mn0 scope global |
		awk '{print $4}' | cut -d/ -f1 | head -1
}

# dhcpcd as a daemon on mn0 (recorded as dhcpcd-mn; `move` stops it), in a
# private mount + UTS namespace: /run, /var/lib/dhcpcd and /etc/resolv.conf
# are bind-mounted from the state dir, hooks are off (--script /bin/true), so
# it cannot touch the host's files or hostname.  Waits for the IPv4 lease and
# (unless -4 or an IPv4-only network) an IPv6 address, bounded by
# LAB_DHCP_TIMEOUT (default 20 s).
cmd_dhcp() {
	local fam="" d=$LAB_STATE/mn/dhcpcd i v4="" v6="" tmo=${LAB_DHCP_TIMEOUT:-20} mode nfam
	[ "${1:-}" = -4 ] && fam=-4
	read -r _ _ mode nfam <<<"$(topo_access "$(mn_attached)")"
	[ "$nfam" = v4 ] && fam=-4
	[ "$mode" = dhcp ] || log "warning: $(mn_attached) has no DHCP server"
	stop_recorded dhcpcd-mn
	cat >"$d/dhcpcd.conf" <<EOF
# generated by lab.sh: dhcpcd for the lab MN
duid
option rapid_commit
require dhcp_server_identifier
# no ARP probe/announce: a lease in ~1 s instead of ~6 s
noarp
# no random 0-1 s delay before the first DISCOVER: 0.07 s instead of 0.9-1.9 s
nodelay
EOF
	: >"$d/resolv.conf"
	# forget leases from the previous network (keep the DUID): otherwise
	# dhcpcd first tries to rebind the old address and waits for a NAK
	rm -f "$d"/lib/*.lease "$d"/lib/*.lease6
	spawn_record mn dhcpcd-mn unshare -m -u sh -c \
		'mount --make-rprivate / && mount --bind "$1" /run &&
		 mount --bind "$2" /var/lib/dhcpcd && mount --bind "$3" /etc/resolv.conf &&
		 exec dhcpcd -f "$4" --nodev --script /bin/true -B $5 mn0' \
		sh "$d/run" "$d/lib" "$d/resolv.conf" "$d/dhcpcd.conf" "$fam"
	for i in $(seq $((tmo * 10))); do
		running dhcpcd-mn || die "dhcpcd died (see $LAB_STATE/log/dhcpcd-mn.log)"
		v4=$(mn_addr -4)
		[ -z "$fam" ] && v6=$(mn_addr -6)
		[ -n "$v4" ] && { [ -n "$fam" ] || [ -n "$v6" ]; } && break
		sleep 0.1
	done
	[ -n "$v4" ] || die "no DHCP lease within ${tmo}s"
	[ -n "$fam" ] || [ -n "$v6" ] || log "warning: no IPv6 address within ${tmo}s"
	log "MN lease on $(mn_attached): $v4 ${v6:-}"
	echo "$v4 ${v6:-}"
}

cmd_status() {
	local s f pid t ns
	echo "lab $LAB_PREFIX  state $LAB_STATE"
	for s in "${TOPO_NS[@]}"; do
		if ns_exists "$(N "$s")"; then echo "  ns $(N "$s")"; else echo "  ns $(N "$s") MISSING"; fi
	done
	for f in "$LAB_STATE"/pids/*.pid; do
		[ -e "$f" ] || continue
		read -r pid t ns <"$f"
		if pid_alive "$pid" "$t"; then s=running; else s=dead; fi
		printf '  %-14s pid %-8s %-8s in %s\n' "$(basename "$f" .pid)" "$pid" "$s" "$(N "$ns")"
	done
	echo "  MN plugged into: $(mn_attached)"
	ip -n "$(N mn)" -br addr show dev mn0 | sed 's/^/  /'
	if running charon-gw; then
		echo "  gw SAs:"
		swanctl_in gw --list-sas 2>/dev/null | sed 's/^/    /'
	fi
}

usage() { sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

main() {
	local cmd=${1:-}
	[ -n "$cmd" ] || usage
	shift
	case "$cmd" in -h | --help | help) usage ;; esac
	lab_identify "$cmd"
	[ "$cmd" = up ] || [ -d "$LAB_STATE" ] || [ "$cmd" = down ] || die "no lab at $LAB_STATE"
	case "$cmd" in
	up) cmd_up ;;
	down) cmd_down ;;
	move) cmd_move "$@" ;;
	dhcp) cmd_dhcp "$@" ;;
	charon)
		[ $# -eq 2 ] || die "charon gw|mn start|stop"
		case "$2" in
		start) charon_start "$1" ;;
		stop) charon_stop "$1" ;;
		*) die "charon gw|mn start|stop" ;;
		esac
		;;
	swanctl)
		[ $# -ge 1 ] || die "swanctl gw|mn ARGS"
		swanctl_in "$@"
		;;
	exec)
		[ $# -ge 2 ] || die "exec NS CMD..."
		ns=$(N "$1")
		shift
		exec ip netns exec "$ns" "$@"
		;;
	spawn)
		[ $# -ge 3 ] || die "spawn NS NAME CMD..."
		spawn_record "$@"
		;;
	stop) stop_recorded "${1:?stop NAME}" ;;
	signal)
		[ $# -eq 2 ] || die "signal NAME SIG"
		signal_recorded "$1" "$2"
		;;
	ns) N "${1:?ns NAME}" ;;
	status) cmd_status ;;
	*) usage ;;
	esac
}

main "$@"
