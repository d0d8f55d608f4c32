#!/usr/bin/env bash
# Issue 10's bench row "event to kernel with 10,000 tasks loaded", on a real
# IPVS: the host kernel has none, so this boots the project's qemu VM once
# (tests/vm/vm.sh: Debian's kernel under TCG, one vCPU) and runs
# bench/marathon/guest.sh in it: tests/tools/marathon_standin.py (a stand-in
# for Marathon, which does not run here) on the guest's loopback with
# gen_apps.py's 1,000 apps x 10 tasks, and vipd programming the kernel:
#   a. full read to the table in the kernel (time from exec, VmHWM);
#   b. event -> kernel for SAMPLES tasks one at a time, seen by a netlink look
#      at the task's service (ipvs_probe.py) and by the audit's `ok` line;
#   c. vipd's CPU idle and at RATE events/s (DURATION 0: skipped);
# each time after the same with vipd --no-ipvs (event -> plan) for comparison,
# REPS times interleaved (part c only in the first).
# Prints Markdown (bench/README.md, "Marathon source"); TCG figures, many
# times slower than real hardware. Timings only: not a CTest test.
#
#   bench/marathon/vm.sh              (or bench/marathon/run.sh --vm)
#   BUILD=build-bench REPS=3 SAMPLES=200 RATE=10 DURATION=30 VIPD_VM_MEM=2G bench/marathon/vm.sh
#   DEBUG=1 bench/marathon/vm.sh      (vipd -v -v: why its patch rounds fell back)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
APPS=${APPS:-1000}
TASKS_PER_APP=${TASKS_PER_APP:-10}
SAMPLES=${SAMPLES:-200}
RATE=${RATE:-10}
DURATION=${DURATION:-30}
REPS=${REPS:-3}
export VIPD_VM_MEM=${VIPD_VM_MEM:-2G}

if [ ! -x "$BUILD/vipd" ]; then
	echo "marathon vm bench: building $BUILD (RelWithDebInfo)" >&2
	"$SRC/scripts/build.sh" "$BUILD"
fi
# The guest reads the host's / (read-only): the answer is written here, on
# the host, where Python is not emulated.
OUT=$BUILD/bench-marathon-vm
rm -rf "$OUT"
mkdir -p "$OUT/data"
python3 "$SRC/bench/marathon/gen_apps.py" "$APPS" "$TASKS_PER_APP" "$OUT/data"
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "command: bench/marathon/vm.sh (DEBUG=${DEBUG:-0} REPS=$REPS APPS=$APPS TASKS_PER_APP=$TASKS_PER_APP SAMPLES=$SAMPLES RATE=$RATE DURATION=$DURATION)"
	echo "commit: $(git -C "$SRC" rev-parse --short HEAD)$(git -C "$SRC" diff --quiet HEAD -- src include tests/tools || echo ' + uncommitted changes in src/include/tests/tools')"
	echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
	echo "host load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "vm: qemu $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }'), -accel tcg -cpu max -smp 1 -m $VIPD_VM_MEM (tests/vm/vm.sh)"
} >"$OUT/machine.txt"
rc=0
VIPD_SOURCE_DIR=$SRC VIPD_BUILD_DIR=$BUILD VIPD_VM_TIMEOUT=${VIPD_VM_TIMEOUT:-1500} \
	bash "$SRC/tests/vm/vm.sh" "$SRC/bench/marathon/guest.sh" "$OUT/data" "$APPS" \
	"$TASKS_PER_APP" "$SAMPLES" "$RATE" "$DURATION" "$REPS" "${DEBUG:-0}" >"$OUT/console.log" 2>&1 || rc=$?
echo "host load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
if [ "$rc" -ne 0 ]; then
	tail -n 40 "$OUT/console.log"
	echo "marathon vm bench: the VM run failed ($rc; console: $OUT/console.log)" >&2
	exit 1
fi
echo '```'
cat "$OUT/machine.txt"
sed -n 's/^BENCHINFO /guest: /p' "$OUT/console.log"
echo '```'
echo
python3 - "$OUT/console.log" <<'PY'
import json, sys
runs = {}
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("BENCHSUM "):
        _, name, data = line.split(" ", 2)
        runs[name] = json.loads(data)
def ms(v):
    return " / ".join(("%.1f" % x).replace("-0.0", "0.0") for x in v[:2])
print("| repetition | table planned (--no-ipvs) s | table in the kernel s | event -> plan p50 / p99 ms"
      " | event -> kernel, netlink look p50 / p99 ms | event -> `ok` line p50 / p99 ms |")
print("|---|---|---|---|---|---|")
r = 1
while "plan-%d" % r in runs and "ipvs-%d" % r in runs:
    p, k = runs["plan-%d" % r], runs["ipvs-%d" % r]
    print("| %d | %.1f | %.1f | %s | %s | %s |" % (r, p["table_s"], k["table_s"],
          ms(p["event"]), ms(k["event"]), ms(k["audit"])))
    r += 1
PY
for name in $(sed -n 's/^=== BEGIN //p' "$OUT/console.log"); do
	echo
	echo "## $name"
	echo
	sed -n "/^=== BEGIN $name\$/,/^=== END $name\$/p" "$OUT/console.log" | sed '1d;$d'
done
