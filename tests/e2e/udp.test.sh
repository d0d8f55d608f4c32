#!/usr/bin/env bash
# End to end in the VM: a UDP VIP balanced over two UDP echo backends whose
# health is an HTTP check on another (TCP) port of the task; a datagram client
# gets answers from both; when one backend's check fails, new flows go to the
# other only; on recovery both answer again.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/udp.sh"
