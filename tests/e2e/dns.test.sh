#!/usr/bin/env bash
# End to end in the VM, with real IPVS: a client resolves
# web.marathon.l4lb.thisdcos.directory with dig against vipd's responder,
# connects to the answer and lands on the healthy backend (never the failing
# one); the name resolves only once the service is in the kernel, and stops
# resolving when the app goes.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/dns.sh"
