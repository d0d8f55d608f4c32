#!/usr/bin/env bash
# The daemon on the host with --no-ipvs (this kernel has no IPVS): real
# backends on loopback, real checks; the audit log must show each task's
# health transitions and the IPVS operations vipd would apply: healthy tasks
# added with their weight, a task that starts failing set to weight 0, a
# broken edit of the definitions keeping the last good app (fail static).
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
port_a=$((25000 + RANDOM % 5000)); port_b=$((port_a + 1))

python3 "$VIPD_SOURCE_DIR/examples/backends/backend.py" --http "$port_a:a" --http "$port_b:b:500" &
backends=$!
trap 'kill $backends $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port_a/" && break; sleep 0.1; done

mkdir -p "$TMP/apps"
write_app() { # health-check-command
  cat > "$TMP/apps/web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "$1"},
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [$port_a]},
           {"id": "web.b", "host": "127.0.0.1", "ports": [$port_b]}]}
JSON
}
write_app 'curl -sf -o /dev/null http://127.0.0.1:$PORT0/health'

"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 30 2>"$TMP/vipd.err" &
vipd_pid=$!
wait_for() { # pattern seconds
  for _ in $(seq $(( $2 * 10 ))); do grep -q "$1" "$TMP/audit.log" 2>/dev/null && return 0; sleep 0.1; done
  fail "audit log never showed [$1]"; cat "$TMP/audit.log" >&2; return 1
}
wait_for '"event":"task","app":"/web","task":"web.b","from":"unknown","to":"unhealthy"' 10
wait_for '"event":"task","app":"/web","task":"web.a","from":"unknown","to":"healthy"' 10
wait_for '"op":"add_dest".*"dest":"127.0.0.1:'"$port_a"'","weight":1' 10
line=$(grep '"task":"web.a"' "$TMP/audit.log" | grep '"event":"check"' | head -1)
expect_contains "$line" '"path":"native"'
expect_contains "$line" '"rule":"first_success"'
if grep -q '"dest":"127.0.0.1:'"$port_b"'","weight":[1-9]' "$TMP/audit.log"; then
  fail "the failing task b was put in rotation"
fi

# A broken edit: the app keeps its last good definition, nothing is removed.
echo '{"id": "/web", "healthChecks": [{"protocol": "NOPE"}]}' > "$TMP/apps/web.json"
kill -HUP $vipd_pid
wait_for '"event":"reload".*"kept_last_good":1' 10
sleep 1
if grep -q '"op":"del_' "$TMP/audit.log"; then fail "a broken definition removed state"; fi
expect_contains "$(cat "$TMP/vipd.err")" "web.json: /healthChecks/0/protocol: expected one of HTTP"

# The healthy backend dies: weight 0 at once (drain), not removal.
write_app 'curl -sf -o /dev/null http://127.0.0.1:$PORT0/health'
kill -HUP $vipd_pid
kill $backends
wait_for '"event":"task","app":"/web","task":"web.a","from":"healthy","to":"unhealthy"' 10
wait_for '"op":"edit_dest".*"dest":"127.0.0.1:'"$port_a"'","weight":0,"old_weight":1' 10

kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
wait_for '"event":"stop"' 2
finish
