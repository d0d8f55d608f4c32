#!/usr/bin/env bash
# IPVS benchmarks (bench/ipvs/README.md): builds vipd (RelWithDebInfo, build-bench-ipvs/),
# boots the project's qemu VM once with bench/ipvs/guest.sh, collects its BENCH lines and
# rewrites the generated part of bench/ipvs/README.md. Reports numbers; asserts no timing.
#
#   bench/ipvs/run.sh                 # 5 repetitions, 60 s daemon runs
#   REPS=7 DURATION=90 bench/ipvs/run.sh
#   bench/ipvs/run.sh --report-only   # re-tabulate the last console log
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build-bench-ipvs}
OUT=$BUILD/bench-ipvs
REPS=${REPS:-5}
DURATION=${DURATION:-60}
QUICK_ROUNDS=${QUICK_ROUNDS:-10}
CMD="bench/ipvs/run.sh${REPS:+ (REPS=$REPS DURATION=$DURATION QUICK_ROUNDS=$QUICK_ROUNDS)}"

mkdir -p "$OUT"
if [[ ${1:-} != --report-only ]]; then
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target vipd dataplane_tool >/dev/null
	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "command: $CMD"
		echo "commit: $(git -C "$SRC" rev-parse --short HEAD)$(git -C "$SRC" diff --quiet HEAD -- src include tests/tools || echo ' + uncommitted changes in src/include/tests/tools')"
		echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
		echo "host load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other jobs on the host share its cores)"
		echo "vm: qemu $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }'), -accel tcg -cpu max -smp 1 -m ${VIPD_VM_MEM:-1G} (tests/vm/vm.sh)"
	} >"$OUT/machine.txt"
	VIPD_SOURCE_DIR=$SRC VIPD_BUILD_DIR=$BUILD VIPD_VM_TIMEOUT=${VIPD_VM_TIMEOUT:-1800} \
		bash "$SRC/tests/vm/vm.sh" "$SRC/bench/ipvs/guest.sh" "$REPS" "$DURATION" "$QUICK_ROUNDS" \
		>"$OUT/console.log" 2>&1 || {
		tail -n 30 "$OUT/console.log"
		echo "run.sh: the VM run failed (console: $OUT/console.log)" >&2
		exit 1
	}
	echo "host load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
fi
python3 "$SRC/bench/ipvs/report.py" "$OUT/console.log" "$OUT/machine.txt" "$SRC/bench/ipvs/README.md"
