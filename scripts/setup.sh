#!/usr/bin/env bash
# Installs what vipd needs to build, test and run its demo on Debian 12, as
# root, idempotently: packages already present are not touched, and apt's
# lists are refreshed only when something is missing.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format clang-tidy
  libev-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libjansson-dev
  libcurl4-openssl-dev libpcre2-dev libcmocka-dev zlib1g-dev libmicrohttpd-dev
  # tests and demo: real backends, real shells, namespaces
  curl iproute2 python3 openssl dash bash
  # the VM that has IPVS: Debian's kernel, qemu, a static busybox for its initramfs
  qemu-system-x86 linux-image-amd64 busybox-static ipvsadm kmod
  # benchmarks and witnesses
  haproxy bind9-dnsutils prometheus
  # the status page's witness: headless Chromium loads it (tests/host/page.test.sh)
  chromium
  # the cluster store (etcd v3) and its test witness (etcdctl)
  etcd-server etcd-client
  # install test: systemd-analyze verify on the unit, man -l on the man pages
  systemd man-db
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
