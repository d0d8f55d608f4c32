#!/usr/bin/env bash
# A reload that changes one task of one app among several touches only that
# app: vipd --no-ipvs on a directory of four apps (/a, /b, and /c and /d
# sharing the VIP /shared:80), COMMAND checks every second. /b's task b.2
# moves to another port (written whole, then renamed in, as a deploy tool
# would): the audit log then shows IPVS operations for /b's service only,
# the reload is patched (not a whole-table round), the checks of every
# other task keep running undisturbed (no task starts over: no new `task`
# transition for them, their health stays, their checks keep their
# cadence), and a fresh vipd started on the final files, once its checks
# have reported, shows the same VIPs and backends through the API.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
api=$((10000 + RANDOM % 10000)) # below the ephemeral range
api2=$((api + 1))
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT

write_app() { # id vip task:port...
  local id=$1 vip=$2 tasks="" sep=""
  shift 2
  for t in "$@"; do
    tasks+="$sep{\"id\": \"${t%%:*}\", \"host\": \"127.0.0.1\", \"ports\": [${t#*:}]}"
    sep=", "
  done
  cat > "$TMP/apps/.${id}.new" <<JSON
{"id": "/$id", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "$vip"}}],
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"},
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [$tasks]}
JSON
  mv "$TMP/apps/.${id}.new" "$TMP/apps/$id.json"
}

mkdir -p "$TMP/apps"
write_app a /a:80 a.1:31001 a.2:31002
write_app b /b:80 b.1:31011 b.2:31012
write_app c /shared:80 c.1:31021
write_app d /shared:80 d.1:31031
# vipd keeps a file's parsed apps only when it was last changed more than
# 20 ms before it was read: let that pass, so the files count as read.
sleep 0.1

get() { curl -s --max-time 5 "http://127.0.0.1:$1$2"; }
in_rotation() { # api-port: how many backends are in rotation
  get "$1" /v1/vips | jq '[.vips[].backends[] | select(.in_rotation)] | length'
}
wait_rotation() { # api-port count what
  for _ in $(seq 150); do
    [ "$(in_rotation "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  fail "$3: $(in_rotation "$1") backends in rotation, expected $2"
}
# The VIPs and backends as a whole table shows them, in a stable order.
table() { # api-port
  get "$1" /v1/vips | jq -S '[.vips[] | {vip, protocol, name, backends: ([.backends[] |
    {app, task, address, health, weight, in_rotation, phase}] | sort_by(.task))}] | sort_by(.vip, .protocol)'
}
last_runs() { # app: "task at" of each of its tasks' check's last run
  get "$api" "/v1/apps$1" | jq -r '.app.tasks[] | "\(.task) \(.checks[0].last.at)"'
}

"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --api "$api" -vv --run-for 120 \
  2> "$TMP/vipd.err" &
pids+=($!)
wait_rotation "$api" 6 "before the reload"
# One more second: every check has run again since, on its own phase.
sleep 1.2
before_a=$(last_runs /a)
lines_before=$(wc -l < "$TMP/audit.log")

write_app b /b:80 b.1:31011 b.2:31099
for _ in $(seq 100); do
  grep -q 'apps reload: 1 app changed' "$TMP/vipd.err" && break
  sleep 0.1
done
expect_contains "$(grep 'apps reload: ' "$TMP/vipd.err")" "apps reload: 1 app changed"
expect_not_contains "$(cat "$TMP/vipd.err")" "rebuilding the whole table"
# Only b.json was parsed again: the other files' apps came from the cache.
expect_contains "$(grep ' apps read in ' "$TMP/vipd.err" | tail -1)" "4 apps read in"
expect_contains "$(grep ' apps read in ' "$TMP/vipd.err" | tail -1)" "(1 file parsed)"
wait_rotation "$api" 6 "after the reload, b.2 on its new port healthy"
sleep 2.2 # two more runs of every check
after=$(tail -n +"$((lines_before + 1))" "$TMP/audit.log")

# IPVS operations: /b's service only, the old b.2 draining (weight 0, as
# a whole round drains it) and the new one in once its check passed.
b_vip=$(get "$api" /v1/vips | jq -r '.vips[] | select(.name == "/b") | .vip')
[ -n "$b_vip" ] || fail "no VIP /b in the API"
ops=$(echo "$after" | grep '"event":"ipvs"')
expect_contains "$ops" "\"dest\":\"127.0.0.1:31099\""
expect_contains "$ops" "edit dest TCP $b_vip -> 127.0.0.1:31012 weight 0"
expect_eq "$(echo "$ops" | grep -vc "\"service\":\"TCP $b_vip\"")" 0 \
  "IPVS operations for other services than /b's ($b_vip)"

# No task but the moved one started over: it alone has a health transition.
tasks=$(echo "$after" | grep '"event":"task"')
expect_contains "$tasks" '"task":"b.2"'
expect_eq "$(echo "$tasks" | grep -vc '"task":"b.2"')" 0 "task transitions of untouched tasks"
for app in /a /c /d; do
  expect_eq "$(get "$api" "/v1/apps$app" | jq -r '[.app.tasks[].health] | unique | join(",")')" \
    healthy "health of $app's tasks after the reload"
done
# /a's checks kept their phase: each last run now is a whole number of
# intervals (1 s) after the one before the reload (a check started over
# would run at its delay plus a spread offset from the reload instead).
after_a=$(last_runs /a)
while read -r task at; do
  now_at=$(echo "$after_a" | awk -v t="$task" '$1 == t { print $2 }')
  off=$(python3 -c "
from datetime import datetime as d
f = lambda s: d.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').timestamp()
x = f('$now_at') - f('$at')
print(round(abs(x - round(x)), 3), round(x))")
  set -- $off
  [ "$2" -ge 2 ] || fail "$task: its check did not run again after the reload ($at, $now_at)"
  awk -v o="$1" 'BEGIN { exit !(o <= 0.35) }' ||
    fail "$task: its runs moved off their phase by $1 s across the reload ($at, $now_at)"
done <<< "$before_a"

# A fresh vipd on the final files ends with the same table.
"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit2.log" --api "$api2" --run-for 60 \
  2> "$TMP/vipd2.err" &
pids+=($!)
wait_rotation "$api2" 6 "the fresh vipd"
expect_eq "$(table "$api2")" "$(table "$api")" "the table of a fresh vipd on the final files"

kill -TERM "${pids[@]}"
wait "${pids[0]}"; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
if [ "$FAILURES" -gt 0 ]; then
  for f in vipd.err audit.log; do echo "--- $f" >&2; tail -40 "$TMP/$f" >&2; done
fi
finish
