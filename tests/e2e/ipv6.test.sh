#!/usr/bin/env bash
# End to end in the VM: an IPv6 VIP ([fd00:200::10]:80) over two IPv6 backends
# in namespaces, checked over IPv6; a client reaches both; a failing backend is
# drained (no new connection), and comes back on recovery.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/ipv6.sh"
