#!/usr/bin/env bash
# vipctl doctor on a host with IPVS (the VM) and vipd running: all well (exit
# 0); a sysctl deliberately wrong, then another balancer's service on vipd's
# VIP address, then IPVS timeouts other than the config's: each that finding
# with its fix and exit 1; each fixed: exit 0 again. The no-IPVS case is
# tests/cli/doctor.test.sh on this host.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$here/vm.sh" "$here/guest/doctor.sh"
