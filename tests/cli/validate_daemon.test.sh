#!/usr/bin/env bash
# vipctl validate reports every problem the daemon acts on when it builds its
# table (VIP labels it refuses, addresses inside the named range, invalid and
# unknown VIPD_* labels, apps disagreeing on a shared VIP), with the very
# messages vipctl vips prints (both come from the daemon's desired_build),
# and exits 2 on an error; vips exits 2 too when it printed one.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"
cd "$TMP" || exit 1

# The two labels of the issue, alone: validate said "0 errors".
cat > issue.json <<'JSON'
{"apps": [
 {"id": "/bad-addr", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "300.1.1.1:80"}}]},
 {"id": "/no-port", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web"}}]}
]}
JSON
issue_errors='issue.json: /apps/0/portDefinitions/0/labels/VIP_0: VIP "300.1.1.1:80": "300.1.1.1" is not an IPv4 address
issue.json: /apps/1/portDefinitions/0/labels/VIP_0: VIP "/web": expected <address or name>:<port>'
out=$("$vipctl" validate issue.json 2>"$TMP/err"); rc=$?
expect_eq "$rc" 2 "validate issue labels exit code"
expect_eq "$(cat "$TMP/err")" "$issue_errors" "validate issue labels errors"
expect_eq "$(echo "$out" | tail -n1)" \
  "2 apps, 0 tasks, 0 health checks (0 HTTP, 0 HTTPS, 0 TCP, 0 COMMAND), 2 VIP labels from 1 files: 2 errors, 0 warnings" \
  "validate issue labels summary"
"$vipctl" vips --no-checks issue.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "vips issue labels exit code"
expect_eq "$(cat "$TMP/err")" "$issue_errors" "vips issue labels errors"
"$vipctl" vips issue.json >/dev/null 2>&1; rc=$?
expect_eq "$rc" 2 "vips (checks run) issue labels exit code"

# Everything the build reports, in the build's order, the same from both.
cat > labels.json <<'JSON'
{"apps": [
 {"id": "/in-range", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "11.0.0.5:80"}}]},
 {"id": "/web-a", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80", "VIPD_SCHEDULER": "rr", "VIPD_WEIGHT": "heavy"}}]},
 {"id": "/web-b", "labels": {"VIPD_HEALTH_FALL": "1000"},
  "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80", "VIPD_SCHEDULER": "wrr", "VIPD_WEIGHTT": "3", "VIPD_NETNS": "x"}}]}
]}
JSON
"$vipctl" vips --no-checks labels.json >"$TMP/vips" 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "vips labels exit code"
web=$(awk '$1 == "/web:80" {print $3}' "$TMP/vips")
expect_eq "$(cat "$TMP/err")" "labels.json: /apps/2/portDefinitions/0/labels/VIPD_WEIGHTT: warning: unknown vipd label \"VIPD_WEIGHTT\" is ignored; did you mean \"VIPD_WEIGHT\"?
labels.json: /apps/2/portDefinitions/0/labels/VIPD_NETNS: warning: label \"VIPD_NETNS\" is read on the app's labels only; here it is ignored
labels.json: /apps/2/labels/VIPD_HEALTH_FALL: label VIPD_HEALTH_FALL: \"1000\": expected an integer from 1 to 100
labels.json: /apps/0/portDefinitions/0/labels/VIP_0: VIP \"11.0.0.5:80\": 11.0.0.5 is inside the named-VIP range 11.0.0.0-11.255.255.254, where names get their addresses; use a name (/app:port) or an address outside it
labels.json: /apps/1/portDefinitions/0/labels/VIPD_WEIGHT: expected a weight from 0 to 65535, got \"heavy\"
labels.json: /apps/2/portDefinitions/0/labels/VIPD_SCHEDULER: warning: \"wrr\" ignored: TCP $web takes \"rr\" from app /web-a" \
  "vips labels messages"
out=$("$vipctl" validate labels.json 2>"$TMP/verr"); rc=$?
expect_eq "$rc" 2 "validate labels exit code"
expect_eq "$(cat "$TMP/verr")" "$(cat "$TMP/err")" "validate and vips: the same messages"
# VIPD_* labels are not VIP labels.
expect_eq "$(echo "$out" | tail -n1)" \
  "3 apps, 0 tasks, 0 health checks (0 HTTP, 0 HTTPS, 0 TCP, 0 COMMAND), 3 VIP labels from 1 files: 3 errors, 3 warnings" \
  "validate labels summary"

# A file that is not JSON was still read: it counts among the files.
printf '{"id": "/x", ' > broken.json
cp issue.json good.json
mkdir dir && mv broken.json good.json dir/
out=$("$vipctl" validate dir 2>/dev/null); rc=$?
expect_eq "$rc" 2 "validate dir exit code"
expect_contains "$(echo "$out" | tail -n1)" "2 VIP labels from 2 files: 3 errors, 0 warnings"
# Keys vipd would ignore inside the objects it reads, with the nearest
# field it does read; Marathon's fields it has no use for pass quietly.
cat > keys.json <<'JSON'
{"id": "/typos", "cpus": 0.1, "healthcheck": [],
 "portDefinitions": [{"port": 0, "protocl": "tcp"}],
 "container": {"portMappings": [{"containerPort": 80, "servicePort": 10000, "hostport": 0}]},
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true", "vaule": "x"}, "timeoutSecs": 3, "ipProtocol": "IPv4", "colour": "red"}]}
JSON
out=$("$vipctl" validate keys.json 2>"$TMP/err"); rc=$?
expect_eq "$rc" 0 "validate keys exit code"
expect_eq "$(cat "$TMP/err")" 'keys.json: /healthcheck: warning: unknown field "healthcheck" is ignored; did you mean "healthChecks"?
keys.json: /container/portMappings/0/hostport: warning: unknown field "hostport" is ignored; did you mean "hostPort"?
keys.json: /healthChecks/0/timeoutSecs: warning: unknown field "timeoutSecs" is ignored; did you mean "timeoutSeconds"?
keys.json: /healthChecks/0/colour: warning: unknown field "colour" is ignored
keys.json: /healthChecks/0/command/vaule: warning: unknown field "vaule" is ignored; did you mean "value"?' "validate keys warnings"
expect_contains "$(echo "$out" | tail -n1)" ": 0 errors, 5 warnings"

# A COMMAND over Linux's limit for one argument (MAX_ARG_STRLEN, 131072
# bytes with the NUL) would fail every run with "Argument list too long":
# validate and lint refuse it, located; one byte less is fine.
for n in 131071 131072; do
  python3 -c "import json,sys; print(json.dumps({'id': '/big', 'healthChecks': [{'protocol': 'COMMAND', 'command': {'value': 'true ' + 'x' * ($n - 5)}}]}))" > big$n.json
done
"$vipctl" validate big131071.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 0 "command at the limit exit code"
expect_eq "$(cat "$TMP/err")" "" "command at the limit"
big_error='big131072.json: /healthChecks/0/command/value: expected a command of at most 131071 bytes (Linux'"'"'s limit for one argument, MAX_ARG_STRLEN: every run would fail with "Argument list too long"), got 131072 bytes'
"$vipctl" validate big131072.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "command over the limit: validate exit code"
expect_eq "$(cat "$TMP/err")" "$big_error" "command over the limit: validate"
"$vipctl" lint big131072.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "command over the limit: lint exit code"
expect_eq "$(cat "$TMP/err")" "$big_error" "command over the limit: lint"

# A VIPD_BODY_REGEX[_n] pattern the HTTP check cannot compile would fail
# every run: validate and --check-config refuse it where it is written, in
# the check's words; a valid one is fine.
cat > regex.json <<'JSON'
{"id": "/rx", "labels": {"VIPD_BODY_REGEX": "(ok", "VIPD_BODY_REGEX_0": "^ok$", "VIPD_BODY_REGEX_1": "a{2,1}"},
 "portDefinitions": [{"port": 0}],
 "healthChecks": [{"protocol": "MESOS_HTTP", "path": "/"}, {"protocol": "MESOS_HTTP", "path": "/x"}]}
JSON
regex_errors='regex.json: /labels/VIPD_BODY_REGEX: body regex "(ok" at offset 3: missing closing parenthesis
regex.json: /labels/VIPD_BODY_REGEX_1: body regex "a{2,1}" at offset 5: numbers out of order in {} quantifier'
out=$("$vipctl" validate regex.json 2>"$TMP/err"); rc=$?
expect_eq "$rc" 2 "invalid body regex: validate exit code"
expect_eq "$(cat "$TMP/err")" "$regex_errors" "invalid body regex: validate"
expect_contains "$(echo "$out" | tail -n1)" ": 2 errors, 0 warnings"
"$VIPD_BUILD_DIR/vipd" --apps regex.json --check-config >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "invalid body regex: --check-config exit code"
expect_eq "$(cat "$TMP/err")" "$regex_errors" "invalid body regex: --check-config"
sed 's/"(ok"/"(ok)"/; s/"a{2,1}"/"a{1,2}"/' regex.json > regex_ok.json
"$vipctl" validate regex_ok.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 0 "valid body regexes: validate exit code"
expect_eq "$(cat "$TMP/err")" "" "valid body regexes: validate"
finish
