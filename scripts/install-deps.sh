#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the lab need, and
# caches the one the build only unpacks: golang-etcd-server-dev, whose etcd
# API definitions (.proto) the build takes at configure time
# (config/store/proto/import_from_debian.sh; never installed: it drags 140 Go
# source packages). Idempotent: skips apt entirely when everything is there.
set -euo pipefail
ETCD_DEB_CACHE=${HNV_ETCD_DEB_CACHE:-/var/cache/hnv}
here=$(cd "$(dirname "$0")" && pwd)
PKGS=(
  build-essential cmake pkg-config ninja-build clang libclang-rt-14-dev
  dpdk dpdk-dev libdpdk-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libyaml-cpp-dev libnl-3-dev libnl-route-3-dev nlohmann-json3-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler etcd-server etcd-client openssl
  prometheus-cpp-dev  # --metrics (daemon/metrics.h)
  prometheus          # promtool: the metrics tests check the scrape's format with it
  iproute2 iputils-ping ethtool tshark python3-scapy iperf3 nftables netcat-openbsd
  # the Debian packages and the gateway VM image (images/)
  debhelper dpkg-dev fakeroot lintian rsync bc mmdebstrap qemu-system-x86 qemu-utils genisoimage
  fdisk grub-pc-bin openssh-client
  # s2s/: strongSwan (charon, swanctl; AES-GCM/openssl, EAP-MSCHAPv2, pki for
  # the tests' certificates) and FRR (zebra, bgpd, frr-reload.py)
  strongswan-charon strongswan-swanctl strongswan-pki libstrongswan-standard-plugins
  libstrongswan-extra-plugins libcharon-extra-plugins libcharon-extauth-plugins
  frr frr-pythontools
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ! compgen -G "$ETCD_DEB_CACHE/golang-etcd-server-dev_*.deb" >/dev/null; then
  echo "install-deps: caching golang-etcd-server-dev in $ETCD_DEB_CACHE (the build's etcd .proto files)"
  # A fresh machine may not have the package lists yet.
  "$here/../config/store/proto/import_from_debian.sh" --download "$ETCD_DEB_CACHE" 2>/dev/null ||
    { apt-get update -q && "$here/../config/store/proto/import_from_debian.sh" --download "$ETCD_DEB_CACHE"; }
fi
