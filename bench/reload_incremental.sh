#!/usr/bin/env bash
# A reload that changes one task among 11,000 objects: vipd --no-ipvs on a
# directory of APPS apps x TASKS tasks (named VIPs /bench/svcN:80; the even
# apps have a TCP check every hour to a closed loopback port, so the
# scheduler holds their 5,000 tasks while hardly running anything; the odd
# apps have no check, their tasks are in rotation). Its inotify watch sees
# each change; vipd -vv logs, per reload, the time it took:
#   read    the directory read through the engine's per-file cache: the
#           changed file parsed, the others' apps copied from the cache;
#   engine  from the new set in hand to the plan applied: the app diff (the
#           changed file's apps only), the scheduler's sync (the changed
#           app's tasks only: the new set keeps the unchanged apps' objects),
#           the rebuild of the changed app's services and their plan
#           ("apps reload: ... in X ms");
#   whole   the whole-table round a reload runs when it cannot patch
#           ("whole-table round: ... in X ms"), provoked by a change that
#           adds a new named VIP (the allocation's, so never patched).
# Then the same apps from Marathon (tests/tools/marathon_standin.py stands in
# for it: Marathon does not run here) and CHANGES status_update_events (a
# task of /bench/svc1 running, then killed, alternately):
#   event   from the event applied to the apps to the plan of the changed
#           app's services ("task event: ... X ms after it"): the scheduler
#           syncs that app alone, the round rebuilds its services alone.
# --no-ipvs: the kernel's part (netlink) is excluded, the plan is what would
# be sent. Prints one Markdown table row per measure: p50, p99, max over
# CHANGES one-task changes (a task added to, then removed from, /bench/svc1,
# alternately) and WHOLE whole rounds. Not a CTest test: timings only.
#
#   bench/reload_incremental.sh                   # build/, 1,000 x 10, 50 changes
#   BUILD=build-bench CHANGES=100 bench/reload_incremental.sh
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
APPS=${APPS:-1000}
TASKS=${TASKS:-10}
FILES=${FILES:-10}
CHANGES=${CHANGES:-50}
WHOLE=${WHOLE:-10}
PORT0=${PORT0:-1001} # closed on loopback: a check gets a RST at once
TMP=$(mktemp -d)
VIPD_PID=
trap '[ -n "$VIPD_PID" ] && kill $VIPD_PID 2>/dev/null; rm -rf "$TMP"' EXIT

log() { printf 'reload_incremental.sh: %s\n' "$*" >&2; }

# FILES files of APPS/FILES apps; /bench/svc1 alone in changing.json, with
# `extra` more tasks and, when `vip` is set, a second VIP label of that name.
gen() { # file first last extra vip
	python3 - "$@" "$TASKS" "$PORT0" <<'PY'
import json, sys
path, first, last, extra, vip, tasks, port0 = sys.argv[1:]
first, last, extra, tasks, port0 = int(first), int(last), int(extra), int(tasks), int(port0)
apps = []
for i in range(first, last):
    labels = {"VIP_0": f"/bench/svc{i}:80"}
    if vip:
        labels["VIP_1"] = f"{vip}:81"
    app = {"id": f"/bench/svc{i}", "portDefinitions": [{"port": 0, "labels": labels}],
           "tasks": [{"id": f"svc{i}.t{j}", "host": "127.0.0.1", "ports": [port0 + j]}
                     for j in range(tasks + extra)]}
    if i % 2 == 0:
        app["healthChecks"] = [{"protocol": "TCP", "portIndex": 0, "intervalSeconds": 3600,
                                "timeoutSeconds": 1, "gracePeriodSeconds": 0,
                                "delaySeconds": 0, "maxConsecutiveFailures": 0}]
    apps.append(app)
with open(path + ".new", "w") as f:
    json.dump(apps, f)
PY
	mv "$1.new" "$1"
}

mkdir "$TMP/apps"
per=$((APPS / FILES))
for ((f = 0; f < FILES; f++)); do
	first=$((f * per)) last=$(((f + 1) * per))
	[ "$first" -eq 0 ] && first=2 # 0 and 1 live in their own files
	gen "$TMP/apps/part$f.json" "$first" "$last" 0 ""
done
gen "$TMP/apps/zero.json" 0 1 0 ""
gen "$TMP/apps/changing.json" 1 2 0 ""

${PERF:-} "$BUILD/vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" -vv --run-for 3600 \
	2>"$TMP/vipd.err" &
VIPD_PID=$!
lines() { grep -c -- "$1" "$TMP/vipd.err" || true; }
wait_lines() { # pattern count
	for _ in $(seq 600); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	log "timed out waiting for '$1' (log: $TMP/vipd.err)"
	tail -5 "$TMP/vipd.err" >&2
	exit 1
}
wait_lines 'watching for changes' 1
log "$APPS apps x $TASKS tasks loaded; $CHANGES one-task changes"

for ((i = 1; i <= CHANGES; i++)); do
	before=$(lines 'apps reload: ')
	gen "$TMP/apps/changing.json" 1 2 $((i % 2)) ""
	wait_lines 'apps reload: ' $((before + 1))
	sleep 0.2
done
log "$WHOLE changes that need the whole table (a new named VIP each)"
for ((i = 1; i <= WHOLE; i++)); do
	before=$(lines 'whole-table round: ')
	gen "$TMP/apps/changing.json" 1 2 0 "/bench/new$i"
	wait_lines 'whole-table round: ' $((before + 1))
	sleep 0.3
done
kill -TERM $VIPD_PID
wait $VIPD_PID || true
VIPD_PID=
mv "$TMP/vipd.err" "$TMP/dir.err"

# Marathon: the directory's apps in one /v2/apps answer.
python3 - "$TMP/apps" >"$TMP/marathon.json" <<'PY'
import glob, json, sys
apps = []
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    apps += json.load(open(f))
json.dump({"apps": apps}, sys.stdout)
PY
mkfifo "$TMP/standin.in"
exec 7<>"$TMP/standin.in"
python3 "$SRC/tests/tools/marathon_standin.py" "$TMP/marathon.json" <"$TMP/standin.in" \
	>"$TMP/standin.out" 2>&1 &
STANDIN_PID=$!
trap '[ -n "$VIPD_PID" ] && kill $VIPD_PID 2>/dev/null; kill $STANDIN_PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q '^port' "$TMP/standin.out" && break; sleep 0.05; done
mport=$(sed -n 's/^port //p' "$TMP/standin.out")
${PERF:-} "$BUILD/vipd" --no-ipvs --apps "http://127.0.0.1:$mport" --audit "$TMP/audit2.log" -vv \
	--run-for 3600 2>"$TMP/vipd.err" &
VIPD_PID=$!
wait_lines 'whole-table round: ' 1
for _ in $(seq 100); do grep -q '^attached' "$TMP/standin.out" && break; sleep 0.05; done
log "Marathon: $CHANGES status_update_events"
for ((i = 1; i <= CHANGES; i++)); do
	before=$(lines 'task event: ')
	status=TASK_RUNNING
	[ $((i % 2)) -eq 0 ] && status=TASK_KILLED
	echo "event status_update_event {\"eventType\":\"status_update_event\",\"appId\":\"/bench/svc1\",\"taskId\":\"svc1.extra\",\"taskStatus\":\"$status\",\"host\":\"127.0.0.1\",\"ports\":[$((PORT0 + 99))],\"ipAddresses\":[{\"ipAddress\":\"127.0.0.1\",\"protocol\":\"IPv4\"}],\"timestamp\":\"2026-12-01T10:00:01.000Z\"}" >&7
	wait_lines 'task event: ' $((before + 1))
	sleep 0.1
done
kill -TERM $VIPD_PID
wait $VIPD_PID || true
VIPD_PID=
echo quit >&7
mv "$TMP/vipd.err" "$TMP/marathon.err"
cat "$TMP/dir.err" "$TMP/marathon.err" >"$TMP/vipd.err"

if grep -q 'rebuilding the whole table' "$TMP/dir.err" &&
	[ "$(lines 'apps reload: [0-9]* app.* changed')" -lt "$CHANGES" ]; then
	log "some one-task changes were not patched:"
	grep 'apps reload: ' "$TMP/vipd.err" | grep -v ' changed, ' | head -3 >&2
fi

# p50 p99 max (nearest rank) of the numbers on stdin
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- | - | - | 0"; exit }
		p50 = v[int(NR * 0.50 + 0.999)]; p99 = v[int(NR * 0.99 + 0.999)]
		printf "%.3f | %.3f | %.3f | %d\n", p50, p99, v[NR], NR }'
}
ms_of() { sed -n "s/.*$1.* in \\([0-9.]*\\) ms.*/\\1/p" "$TMP/vipd.err"; }

# The reads and patched reloads of the one-task changes only: the first
# CHANGES of each after start-up (the first read is start-up's).
echo "| measure ($APPS apps x $TASKS tasks, --no-ipvs) | p50 ms | p99 ms | max ms | n |"
echo "|---|---|---|---|---|"
echo "| read: the changed file parsed, the others from the cache | $(ms_of ' apps read' | sed -n "2,$((CHANGES + 1))p" | stats) |"
echo "| engine: one changed task, diff to plan | $(ms_of 'apps reload: 1 app changed' | head -n "$CHANGES" | stats) |"
echo "| whole-table round (a new named VIP) | $(ms_of 'whole-table round: ' | sed -n "2,$((WHOLE + 1))p" | stats) |"
echo "| Marathon event: one task, event to plan | $(sed -n 's/.*task event: .* \([0-9.]*\) ms after it.*/\1/p' "$TMP/vipd.err" | stats) |"
