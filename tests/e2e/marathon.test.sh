#!/usr/bin/env bash
# End to end in the VM: vipd following Marathon (two masters played by
# tests/tools/marathon_standin.py, a stand-in for Marathon, which does not run
# here) programs the real IPVS table. Tasks started, killed and lost through
# events reach the kernel within 1 s (the time printed); the stream dropping,
# with an event sent meanwhile, loses nothing (the state read on reconnecting
# brings it); master trouble (down, HTTP 500, garbage, a truncated body, a
# stalled answer) leaves `ipvsadm -Ln` unchanged and traffic through the VIP
# balanced; after the failover an event on the second master reaches the kernel.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/marathon.sh"
