#!/bin/sh
# deps.sh - install the Debian packages the suite needs to build and test.
# One list, one install step; silent when nothing is missing.
# `make check` runs this first, but needs make to start: on a bare Debian 12
# without make, run this script once (as root) or use .ci/run, which does.
set -eu

PACKAGES="
  make gcc clang pkg-config
  libssl-dev libmnl-dev libconfig-dev libcmocka-dev
  iproute2 nftables iputils-ping procps tcpdump tshark iperf3
  dnsmasq-base dhcpcd-base
  charon-systemd strongswan-swanctl strongswan-pki
  libcharon-extra-plugins libstrongswan-standard-plugins
"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# charon-systemd's postinst would start a system charon; the lab runs its
# own instances, so keep package scripts from starting services.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
