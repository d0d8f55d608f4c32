#!/usr/bin/env bash
# No read of an app source may block vipd's loop. A FIFO named x.json in the
# apps directory used to freeze vipd for good (opening it waits for a
# writer): every check stopped and SIGTERM no longer stopped it. Now the
# FIFO is refused with its location, checks go on through reloads that see
# it, and SIGTERM stops vipd at once; the same with the apps path itself a
# FIFO.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
vipd_pid=
trap 'kill -KILL $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT
chmod 755 "$TMP" # COMMAND checks run as nobody and look at $TMP/up

wait_for() { # pattern seconds
  for _ in $(seq $(( $2 * 10 ))); do grep -q "$1" "$TMP/audit.log" 2>/dev/null && return 0; sleep 0.1; done
  fail "audit log never showed [$1]"; cat "$TMP/audit.log" >&2; return 1
}
# SIGTERM, then the exit within `seconds`: a frozen loop never gets there.
stop_within() { # seconds
  kill -TERM "$vipd_pid"
  for _ in $(seq $(( $1 * 10 ))); do
    kill -0 "$vipd_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$vipd_pid" 2>/dev/null; then
    fail "vipd still running $1 s after SIGTERM"
    kill -KILL "$vipd_pid"
  fi
  wait "$vipd_pid"; expect_eq "$?" 0 "vipd exit code after SIGTERM"
  vipd_pid=
}
start_vipd() { # apps-path
  rm -f "$TMP/audit.log"
  cat > "$TMP/vipd.json" <<JSON
{"apps": "$1", "audit_log": "$TMP/audit.log", "reload_seconds": 1}
JSON
  "$vipd" -c "$TMP/vipd.json" --no-ipvs --run-for 60 2>"$TMP/vipd.err" &
  vipd_pid=$!
}

mkdir -p "$TMP/apps"
cat > "$TMP/apps/web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "test -e $TMP/up"},
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [8080]}]}
JSON
touch "$TMP/up"

# A FIFO there at start and another one appearing later (seen by a reload).
mkfifo "$TMP/apps/x.json"
start_vipd "$TMP/apps"
wait_for '"event":"task","app":"/web","task":"web.a","from":"unknown","to":"healthy"' 10
expect_contains "$(cat "$TMP/vipd.err")" "$TMP/apps/x.json: not a regular file (a FIFO)"
mkfifo "$TMP/apps/y.json"
wait_for '"event":"reload".*"errors":2' 5
expect_contains "$(cat "$TMP/vipd.err")" "$TMP/apps/y.json: not a regular file (a FIFO)"
# Still checking after reloads that met the FIFOs: the check notices this.
rm "$TMP/up"
wait_for '"event":"task","app":"/web","task":"web.a","from":"healthy","to":"unhealthy"' 10
stop_within 5
wait_for '"event":"stop"' 1
if grep -q '"op":"del_' "$TMP/audit.log"; then fail "a FIFO in the directory removed state"; fi

# The apps path itself a FIFO: refused at start and on every reload; vipd
# runs (with nothing to do) and stops on SIGTERM.
mkfifo "$TMP/apps.fifo"
start_vipd "$TMP/apps.fifo"
wait_for '"event":"start"' 10
sleep 2.5 # two reloads at reload_seconds 1
expect_contains "$(cat "$TMP/vipd.err")" "$TMP/apps.fifo: not a regular file (a FIFO)"
stop_within 5
wait_for '"event":"stop"' 1
finish
