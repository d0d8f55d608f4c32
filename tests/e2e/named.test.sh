#!/usr/bin/env bash
# End to end in the VM: named VIPs (/web:80, /api:8080) computed alike by two
# vipd instances ("nodes": the root network namespace and node2, each with its
# own IPVS table, config, interface and audit log) given the same app set (one
# as two files, the other as one list in the other order); both tables agree,
# clients on both nodes reach both backends, and a failing backend is drained
# on both.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/named.sh"
