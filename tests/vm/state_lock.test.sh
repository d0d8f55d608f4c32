#!/usr/bin/env bash
# One vipd per lb.state_file, with real vipd processes on a kernel with IPVS
# (the VM): while a first vipd runs, a second one naming the same state file
# (its own audit log and interface) is refused at start-up, exit 1, with the
# first's pid and name, and leaves the first's IPVS service alone; once the
# first has stopped, the second starts. The lock itself is unit-tested in
# tests/unit/test_state_lock.c.
set -u
here=$(dirname "$(readlink -f "$0")")
exec bash "$here/vm.sh" "$here/guest/state_lock.sh"
