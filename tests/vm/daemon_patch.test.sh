#!/usr/bin/env bash
# The daemon's round after a health change (src/daemon/engine_patch.c,
# src/lb/dataplane_patch.c) on a real IPVS in the VM: a check failing and
# recovering changes only its backend's weight in a VIP two apps share, and
# when the kernel no longer holds what vipd remembers (a service deleted
# behind its back), the refused operation falls back to a whole-table round
# that reads the kernel and puts the service back, without waiting for the
# periodic resync. A reload adding an app with a new VIP, then removing it,
# is a patch round too: the service, its dests and the VIP's route come and
# go, the owned set follows, and a fresh vipd adopts the result with no
# operation.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$here/vm.sh" "$here/guest/daemon_patch.sh"
