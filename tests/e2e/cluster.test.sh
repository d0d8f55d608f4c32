#!/usr/bin/env bash
# End to end in the VM, issue 9: three nodes A, B, C (network namespaces on a
# bridge, each with its own IPVS table and its own vipd joined through a
# 3-member etcd in the guest) and one shared app source whose tasks run on A
# and B. From C, a named VIP (by its DNS name from C's responder) and an
# address VIP reach the backends on A and B (each node routes its VIPs with
# its own address as src, so the backends answer C). Under a load of new
# connections from A, B and C to both VIPs, A's vipd and then B's are
# restarted (SIGTERM, start): no request fails on any node; the others take
# the revoked node's backends out of rotation at once but for /solo's only
# one (kept); the restarted node changes nothing in its own table; every
# table has every backend again. A check failing on A takes that backend out
# of rotation on every node (weight 0) within interval + timeout + 1 s (as
# the nodes' audit logs time their kernel operations); kill -9 of A's vipd:
# A's backends go out of rotation on B and C within the lease TTL (3 s) + 2 s,
# except a VIP's only one (kept at weight 1, audited).
# Then etcd: one member stopped changes no table and a check still propagates;
# all stopped for twice the TTL changes no table (a node still applies its own
# checks); restarted, the other node converges.
set -u
here=$(dirname "$(readlink -f "$0")")
export VIPD_VM_MEM=${VIPD_VM_MEM:-2G} VIPD_VM_TIMEOUT=${VIPD_VM_TIMEOUT:-540}
exec bash "$VIPD_SOURCE_DIR/tests/vm/vm.sh" "$here/guest/cluster.sh"
