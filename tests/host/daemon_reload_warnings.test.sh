#!/usr/bin/env bash
# A definition warning is logged once, when its check is new or changed, not
# on every reload (it was repeated 22 times in 26 s): vipd --no-ipvs reloads
# on SIGHUP and on file changes while stderr is counted.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
trap 'kill $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT

mkdir -p "$TMP/apps"
write_app() { # file app-id interval timeout (whole, so no reload reads half)
  cat > "$TMP/$1.new" <<JSON
{"id": "$2", "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"},
   "intervalSeconds": $3, "timeoutSeconds": $4, "gracePeriodSeconds": 0}],
 "tasks": [{"id": "${2#/}.a", "host": "127.0.0.1", "ports": [1]}]}
JSON
  mv "$TMP/$1.new" "$TMP/apps/$1"
}
write_app web.json /web 1 2

"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 60 2>"$TMP/vipd.err" &
vipd_pid=$!
reloads() { grep -c '"event":"reload"' "$TMP/audit.log" 2>/dev/null || echo 0; }
wait_reloads() { # count
  for _ in $(seq 100); do [ "$(reloads)" -ge "$1" ] && return 0; sleep 0.1; done
  fail "expected $1 reloads, the audit log has $(reloads)"
}
hup() { # reloads expected after it
  kill -HUP $vipd_pid
  wait_reloads "$1"
}
count() { grep -c -- "$1" "$TMP/vipd.err"; }
warn_web_2='web.json: /healthChecks/0: warning: timeoutSeconds (2) is not below intervalSeconds (1)'
warn_web_3='web.json: /healthChecks/0: warning: timeoutSeconds (3) is not below intervalSeconds (1)'
warn_db='db.json: /healthChecks/0: warning: timeoutSeconds (5) is not below intervalSeconds (5)'

wait_reloads 1
hup 2
hup 3
hup 4
expect_eq "$(count "$warn_web_2")" 1 "warnings for /web after 3 reloads"

# Another file appears (a reload by file change): its check is new, so it
# is warned about; /web's is not repeated.
write_app db.json /db 5 5
wait_reloads 5
hup 6
expect_eq "$(count "$warn_db")" 1 "warnings for the new /db after 2 reloads"
expect_eq "$(count "$warn_web_2")" 1 "warnings for the unchanged /web"

# /web's check changes: warned about once more, in its new words.
write_app web.json /web 1 3
hup 7
hup 8
expect_eq "$(count "$warn_web_3")" 1 "warnings for the changed /web"
expect_eq "$(count "$warn_web_2")" 1 "the old /web warning"
expect_eq "$(count "$warn_db")" 1 "warnings for the unchanged /db"

# Errors are still logged on every reload: their app runs on its last good
# definition until they are fixed.
echo '{"id": "/db", "healthChecks": [{"protocol": "NOPE"}]}' > "$TMP/apps/db.json"
hup 9
hup 10
errors=$(count 'db.json: /healthChecks/0/protocol: expected one of')
[ "$errors" -ge 2 ] || fail "the broken /db's error was logged $errors time(s) in 2 reloads"

kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
finish
