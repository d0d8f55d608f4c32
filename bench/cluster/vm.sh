#!/usr/bin/env bash
# A new vipd converging from empty, kernel included (issue 9, "Scale"): boots the project's
# qemu VM once (tests/vm/vm.sh: Debian's kernel with IPVS, under TCG) with
# bench/cluster/vm_guest.sh, which starts a real etcd and bench/cluster/publisher.py in the
# guest and measures REPS new vipds from empty (each once with --no-ipvs and once programming
# IPVS), then CHANGES remote weight changes to the kernel. Collects the console's BENCH lines
# and writes Markdown tables to stdout and $OUT/vm-report.md. Not a CTest test: timings only.
#
#   bench/cluster/vm.sh                                  # 100 x 1,000 over 1,000 VIPs
#   NODES=10 TASKS=100 VIPS=100 REPS=1 bench/cluster/vm.sh   # a quick look
#   bench/cluster/vm.sh --report-only                    # re-tabulate the last console log
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build-bench}
OUT=${OUT:-$BUILD/bench-results/cluster-vm}
NODES=${NODES:-100}
TASKS=${TASKS:-1000}
VIPS=${VIPS:-1000}
REPS=${REPS:-2}
# Lease TTL of the simulated nodes and of the vipd: 1800 s, not vipd's default 10. Under TCG
# etcd applies the load's txns of 500 puts so slowly that its keep-alive answers time out
# ("waiting for the applied index took too long") for minutes: at TTL 30 the simulated
# leases expired during the load. Nothing here measures a lease's expiry.
TTL=${TTL:-1800}
CHANGES=${CHANGES:-10}
export VIPD_VM_MEM=${VIPD_VM_MEM:-3G}
export VIPD_VM_TIMEOUT=${VIPD_VM_TIMEOUT:-3600}
CMD="bench/cluster/vm.sh (NODES=$NODES TASKS=$TASKS VIPS=$VIPS REPS=$REPS TTL=$TTL CHANGES=$CHANGES)"

mkdir -p "$OUT"
if [[ ${1:-} != --report-only ]]; then
	if [[ ! -x $BUILD/vipd ]]; then
		echo "cluster/vm.sh: building vipd (RelWithDebInfo) in $BUILD" >&2
		"$SRC/scripts/build.sh" "$BUILD"
	fi
	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "command: $CMD"
		echo "commit: $(git -C "$SRC" rev-parse --short HEAD)$(git -C "$SRC" diff --quiet HEAD -- src include || echo ' + uncommitted changes in src/include')"
		echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
		echo "host load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other jobs on the host share its cores)"
		echo "vm: qemu $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }'), -accel tcg -cpu max -smp 1 -m $VIPD_VM_MEM (tests/vm/vm.sh)"
	} >"$OUT/machine.txt"
	start=$SECONDS
	VIPD_SOURCE_DIR=$SRC VIPD_BUILD_DIR=$BUILD \
		bash "$SRC/tests/vm/vm.sh" "$SRC/bench/cluster/vm_guest.sh" \
		"$NODES" "$TASKS" "$VIPS" "$REPS" "$TTL" "$CHANGES" >"$OUT/console.log" 2>&1 || {
		tail -n 30 "$OUT/console.log"
		echo "cluster/vm.sh: the VM run failed (console: $OUT/console.log)" >&2
		exit 1
	}
	{
		echo "host load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "the VM run took $((SECONDS - start)) s"
	} >>"$OUT/machine.txt"
fi
python3 "$SRC/bench/cluster/vm_report.py" "$OUT/console.log" "$OUT/machine.txt" \
	"$NODES" "$TASKS" "$VIPS" | tee "$OUT/vm-report.md"
