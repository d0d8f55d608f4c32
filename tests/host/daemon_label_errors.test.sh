#!/usr/bin/env bash
# vipd's labels the daemon cannot use (VIPD_HEALTH_FALL out of range, a
# VIPD_BODY_REGEX that does not compile) are logged by the daemon, located,
# once per load of the definitions, not once per round or per task; the
# checks still run, with Marathon's hysteresis of 1/1.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
trap 'kill $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT

mkdir -p "$TMP/apps"
write_app() { # VIPD_HEALTH_FALL value (whole file at once, so no reload reads half)
  cat > "$TMP/web.new" <<JSON
{"id": "/web", "labels": {"VIPD_HEALTH_FALL": "$1", "VIPD_BODY_REGEX": "(ok"},
 "portDefinitions": [{"port": 0, "labels": {"VIP_0": "10.1.2.3:80"}}],
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "[ \$(( \$(date +%s) % 2 )) = 0 ]"},
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [1]},
           {"id": "web.b", "host": "127.0.0.1", "ports": [2]}]}
JSON
  mv "$TMP/web.new" "$TMP/apps/web.json"
}
write_app 0

"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 60 2>"$TMP/vipd.err" &
vipd_pid=$!
count() { grep -c -F -- "$1" "$2"; }
wait_count() { # fixed-string file count seconds
  for _ in $(seq $(( $4 * 10 ))); do
    [ "$(count "$1" "$2")" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "expected $3 lines with [$1] in $2, got $(count "$1" "$2")"
}
fall_0='web.json: /labels/VIPD_HEALTH_FALL: label VIPD_HEALTH_FALL: "0": expected an integer from 1 to 100'
fall_x='web.json: /labels/VIPD_HEALTH_FALL: label VIPD_HEALTH_FALL: "x": expected an integer from 1 to 100'
regex='web.json: /labels/VIPD_BODY_REGEX: body regex "(ok" at offset 3: missing closing parenthesis'

# The check passes on even seconds only: with fall 1 each task turns
# unhealthy at its first failure, and every turn is a table round.
wait_count '"event":"task","app":"/web","task":"web.a","from":"healthy","to":"unhealthy"' "$TMP/audit.log" 2 15
expect_eq "$(count "$fall_0" "$TMP/vipd.err")" 1 "the VIPD_HEALTH_FALL error across rounds"
expect_eq "$(count "$regex" "$TMP/vipd.err")" 1 "the VIPD_BODY_REGEX error across rounds"

# A changed definition is a new load: its error is logged, once.
write_app x
wait_count "$fall_x" "$TMP/vipd.err" 1 10
wait_count '"event":"task","app":"/web","task":"web.b","from":"healthy","to":"unhealthy"' "$TMP/audit.log" 3 15
expect_eq "$(count "$fall_x" "$TMP/vipd.err")" 1 "the changed VIPD_HEALTH_FALL error"
expect_eq "$(count "$fall_0" "$TMP/vipd.err")" 1 "the old VIPD_HEALTH_FALL error"

kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
finish
