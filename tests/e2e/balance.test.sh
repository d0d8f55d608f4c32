#!/usr/bin/env bash
# End to end in the VM, with real IPVS: vipd checks two backends in network
# namespaces and balances a VIP over the healthy ones; a failing backend
# leaves rotation within interval + timeout (its established connection
# finishes), comes back on recovery, and is removed when its task goes away.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/balance.sh"
