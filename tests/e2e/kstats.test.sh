#!/usr/bin/env bash
# End to end in the VM, with real IPVS: vipd with its API reads the kernel's
# own IPVS counters (a stepped dump every 5 s on the API's socket); traffic
# sent through a VIP shows in /v1/vips and /metrics as exactly the
# connections sent, split over the two backends, with bytes both ways, an
# open connection as an active one, and /metrics passes promtool.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/kstats.sh"
