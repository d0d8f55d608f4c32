#!/usr/bin/env bash
# vipd following Marathon at 10,000 tasks (issue 10's bench), against
# tests/tools/marathon_standin.py, a stand-in for Marathon (which does not
# run here), on loopback, vipd --no-ipvs (the kernel's part excluded):
#   a. full read of the /v2/apps?embed=apps.tasks answer: time from vipd's
#      start to the table planned, VmHWM, the answer's size; a forced re-read;
#   b. event to plan p50/p99, one status_update_event at a time;
#   c. vipd's CPU idle and at 100 events/s for 30 s.
# One command from a clean checkout (builds build/ when it has no vipd);
# cleans up on exit. Prints Markdown tables (bench/README.md, "Marathon
# source"). Timings only: not a CTest test.
#
#   bench/marathon/run.sh
#   bench/marathon/run.sh --vm    (the same with the kernel's part, in the VM: vm.sh)
#   BUILD=build-bench APPS=1000 TASKS_PER_APP=10 SAMPLES=200 RATE=100 DURATION=30 READS=3 bench/marathon/run.sh
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = --vm ]; then
	exec "$SRC/bench/marathon/vm.sh"
fi
BUILD=${BUILD:-$SRC/build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$BUILD/vipd" ]; then
	echo "marathon bench: building $BUILD (RelWithDebInfo)" >&2
	"$SRC/scripts/build.sh" "$BUILD"
fi
# bench.py stops vipd and the stand-in itself, also on an error.
python3 "$SRC/bench/marathon/bench.py" --vipd "$BUILD/vipd" \
	--standin "$SRC/tests/tools/marathon_standin.py" --tmp "$TMP" \
	--apps "${APPS:-1000}" --tasks-per-app "${TASKS_PER_APP:-10}" --reads "${READS:-3}" \
	--samples "${SAMPLES:-200}" --rate "${RATE:-100}" --duration "${DURATION:-30}"
