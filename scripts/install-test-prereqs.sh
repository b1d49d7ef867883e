#!/bin/sh
# Installs what the network-namespace tests (test/netns/, test/integration/netns.test.ts) and
# `npm run bench:path` need beyond Node: iproute2 (ip, tc), iptables (NAT router, stateful
# filter, wire byte counters), conntrack (NAT rebinding: flush the mapping table), faketime
# (libfaketime, for daemons with skewed clocks), python3 (the user-space link that delays,
# drops, duplicates and reorders; the kernels we run on have no sch_netem) and the Python
# packages of the independent protocol checks.
#
# Debian/Ubuntu, as root. Idempotent and quiet: does nothing when everything is present.
# Called by .ci/run before `npm test`.
set -eu

need=""
have() { command -v "$1" >/dev/null 2>&1; }
have ip || need="$need iproute2"
have tc || need="$need iproute2"
have iptables || need="$need iptables"
have conntrack || need="$need conntrack"
have faketime || need="$need faketime"
have python3 || need="$need python3"
# libfaketime.so.1 is what the tests preload; the faketime package depends on libfaketime.
found=""
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
  [ -e "$f" ] && found=1
done
[ -n "$found" ] || need="$need libfaketime"
# Independent checks in Python: vault-v2 interop (test/compat/vault-v2-python.test.ts) and the
# Noise handshake cross-check (test/helpers/noise_check.py) use Debian's python3-nacl,
# python3-msgpack and python3-zstandard.
/usr/bin/python3 -c 'import nacl.public, nacl.signing, msgpack, zstandard' >/dev/null 2>&1 ||
  need="$need python3-nacl python3-msgpack python3-zstandard"
# The frame/datagram cross-check (test/helpers/protocol_v5_check.py) uses python3-cryptography.
/usr/bin/python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' >/dev/null 2>&1 || need="$need python3-cryptography"

if [ -z "$need" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-test-prereqs: needs root to install:$need" >&2
  exit 1
fi
if ! have apt-get; then
  echo "install-test-prereqs: no apt-get here; install by hand:$need" >&2
  exit 1
fi
# Unique names only (iproute2 may appear twice).
need=$(echo $need | tr ' ' '\n' | sort -u | tr '\n' ' ')
export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
apt-get -qq -o DPkg::Lock::Timeout=300 update >/dev/null
# shellcheck disable=SC2086
apt-get -qq -o DPkg::Lock::Timeout=300 install -y --no-install-recommends $need >/dev/null
# Debian's iptables defaults to the nf_tables backend; both work on our kernels, so keep it.
echo "install-test-prereqs: installed $need"
