#!/usr/bin/env bash
# vipctl check and vipctl lint against real backends on loopback: each check's
# outcome and path, the same outcome natively and through the shell, exit
# codes, and lint's located findings with their fixes.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"
. "$VIPD_SOURCE_DIR/tests/cli/backends_lib.sh"

cat > "$TMP/app.json" <<JSON
{"id": "/svc", "portDefinitions": [{"port": 0}],
 "healthChecks": [
  {"protocol": "COMMAND", "command": {"value": "curl -sf -o /dev/null http://127.0.0.1:\$PORT0/health"}, "timeoutSeconds": 2},
  {"protocol": "COMMAND", "command": {"value": "test \"\$(curl -4 -w '%{http_code}' -s http://localhost:\${PORT0}/|cut -f1 -d\" \")\" == 200"}, "timeoutSeconds": 2},
  {"protocol": "HTTP", "path": "/health", "portIndex": 0, "timeoutSeconds": 2},
  {"protocol": "TCP", "portIndex": 0, "timeoutSeconds": 2},
  {"protocol": "COMMAND", "command": {"value": "curl -s http://127.0.0.1:\$PORT1/"}, "timeoutSeconds": 2}],
 "tasks": [{"id": "svc.up", "host": "127.0.0.1", "ports": [$up]},
           {"id": "svc.bad", "host": "127.0.0.1", "ports": [$bad]},
           {"id": "svc.closed", "host": "127.0.0.1", "ports": [$closed]}]}
JSON

out=$("$vipctl" check "$TMP/app.json"); rc=$?
expect_eq "$rc" 1 "check exit code when some checks fail"
expect_contains "$out" "/svc svc.up check 0 COMMAND native: ok exit 0"
expect_contains "$out" "/svc svc.bad check 0 COMMAND native: exit_nonzero exit 22"
expect_contains "$out" "/svc svc.closed check 0 COMMAND native: exit_nonzero exit 7"
expect_contains "$out" "/svc svc.up check 1 COMMAND native: exit_nonzero exit 2"
expect_contains "$out" "/svc svc.up check 2 HTTP direct: ok HTTP 200"
expect_contains "$out" "/svc svc.bad check 2 HTTP direct: http_status HTTP 500"
expect_contains "$out" "/svc svc.closed check 3 TCP direct: connect_failed"
expect_contains "$out" "15 checks run: not all healthy"

# The shell gives the same outcomes, exit codes included.
shell=$("$vipctl" check --no-native "$TMP/app.json")
for task in up bad closed; do
  for c in 0 1; do
    native_line=$(echo "$out" | grep "svc.$task check $c " | sed -E 's/.* native: ([a-z_]+( exit [0-9]+)?) .*/\1/')
    shell_line=$(echo "$shell" | grep "svc.$task check $c " | sed -E 's/.*\): ([a-z_]+( exit [0-9]+)?) .*/\1/')
    [ -n "$native_line" ] || fail "task $task check $c: no native outcome parsed"
    expect_eq "$shell_line" "$native_line" "task $task check $c: shell vs native outcome"
  done
done
expect_contains "$shell" "COMMAND shell (native curl checks are switched off)"
# Where the shell itself speaks (dash's test on `==`), the native output is
# its message, without the shell's "$0: LINE: " prefix.
for task in up bad closed; do
  native_msg=$(echo "$out" | grep "svc.$task check 1 " | sed -E 's/.* \| //')
  shell_msg=$(echo "$shell" | grep "svc.$task check 1 " | sed -E 's/.* \| [^:]*: [0-9]+: //')
  expect_contains "$native_msg" "unexpected operator"
  expect_eq "$shell_msg" "$native_msg" "task $task check 1: shell vs native message"
done

out=$("$vipctl" check --app /svc "$TMP/app.json" | grep -c "svc.up"); expect_eq "$out" 5 "--app runs that app's checks"
"$vipctl" check --app /nope "$TMP/app.json" >/dev/null 2>&1; expect_eq "$?" 2 "unknown --app"

# An operator's body expectation on Marathon's HTTP checks (labels).
cat > "$TMP/regex.json" <<JSON
{"id": "/rx", "labels": {"VIPD_BODY_REGEX_0": "^up\\n\$", "VIPD_BODY_REGEX": "never-there"},
 "portDefinitions": [{"port": 0}],
 "healthChecks": [{"protocol": "HTTP", "path": "/", "timeoutSeconds": 2},
                  {"protocol": "HTTP", "path": "/", "timeoutSeconds": 2}],
 "tasks": [{"id": "rx.up", "host": "127.0.0.1", "ports": [$up]}]}
JSON
out=$("$vipctl" check "$TMP/regex.json")
expect_contains "$out" "/rx rx.up check 0 HTTP direct: ok HTTP 200"
expect_contains "$out" "/rx rx.up check 1 HTTP direct: body_mismatch HTTP 200"

out=$("$vipctl" lint "$TMP/app.json"); rc=$?
expect_eq "$rc" 1 "lint exit code with findings"
expect_contains "$out" "app.json: /healthChecks/1/command/value: \`test ... == ...\` is not POSIX"
expect_contains "$out" "  fix: use \`=\` to compare strings"
expect_contains "$out" "/healthChecks/1/command/value: curl writes the response body before %{http_code}"
expect_contains "$out" "/healthChecks/4/command/value:"
expect_contains "$out" "PORT1"
expect_contains "$out" "[no_status_check]"
"$vipctl" lint "$VIPD_SOURCE_DIR/tests/data/mixed/a-good.json" >/dev/null; expect_eq "$?" 0 "lint clean app"
finish
