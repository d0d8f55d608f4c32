#!/usr/bin/env bash
# End to end in the VM: IPVS services vipd does not own (another VIP made with
# ipvsadm, one on a vipd VIP's address but another port, one with the VIP's
# address and port but another protocol) survive vipd's start, resync rounds,
# a reload and its stop, unchanged.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/coexist.sh"
