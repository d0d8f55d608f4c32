#!/usr/bin/env bash
# End to end in the VM: vipd restarted (SIGTERM, start) twice under a steady
# load of new connections: no connection fails, no dest is removed or re-added,
# weights stay. Restarted while a backend is down: that backend stays at weight
# 0 and gets no new connection at any time, until its check passes again.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/restart.sh"
