#!/usr/bin/env bash
# vipctl -c reads vipd's settings as vipd does, so that vipctl and the daemon
# give the same answers: the check shell and native_curl for check, the
# named-VIP ranges and DNS names for vips and validate. A missing explicit
# config is an error; a config error is located, exit 2.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"
cd "$TMP" || exit 1
chmod 0755 "$TMP" # checks run as the config's unprivileged user when we are root

cat > myshell <<'EOF2'
#!/bin/sh
echo "my shell ran: $2"
exit 3
EOF2
chmod 0755 myshell
closed=$((21000 + RANDOM % 4000))
cat > app.json <<JSON
{"id": "/svc", "portDefinitions": [{"port": 0}],
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"}, "timeoutSeconds": 2},
                  {"protocol": "COMMAND", "command": {"value": "curl -sf http://127.0.0.1:\$PORT0/"}, "timeoutSeconds": 2}],
 "tasks": [{"id": "svc.a", "host": "127.0.0.1", "ports": [$closed]}]}
JSON
cat > vipd.json <<JSON
{"checks": {"shell": "$TMP/myshell", "native_curl": false},
 "lb": {"named_vip_range_v4": "10.99.0.0-10.99.0.255"},
 "dns": {"zones": ["vips.example"], "framework": "fw"}}
JSON

out=$("$vipctl" check app.json 2>&1); rc=$?
expect_eq "$rc" 1 "check without config exit code"
expect_contains "$out" "/svc svc.a check 0 COMMAND shell (not one of the curl forms vipd can run natively): ok exit 0"
expect_contains "$out" "/svc svc.a check 1 COMMAND native: exit_nonzero exit 7"

out=$("$vipctl" check app.json -c vipd.json 2>&1); rc=$?
expect_eq "$rc" 1 "check with config exit code"
expect_contains "$out" "/svc svc.a check 0 COMMAND shell (native curl checks are switched off): exit_nonzero exit 3"
expect_contains "$out" "| my shell ran: true"
expect_contains "$out" "/svc svc.a check 1 COMMAND shell (native curl checks are switched off): exit_nonzero exit 3"

cat > vips.json <<'JSON'
{"apps": [
 {"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}]},
 {"id": "/old", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "10.99.0.5:80"}}]}
]}
JSON
out=$("$vipctl" vips --no-checks vips.json 2>"$TMP/err"); rc=$?
expect_eq "$rc" 0 "vips with the default ranges exit code"
expect_contains "$out" "10.99.0.5:80 TCP 10.99.0.5:80"
case "$(awk '$1 == "/web:80" {print $3}' <<<"$out")" in 11.*:80) ;; *) fail "/web not in the default range: $out" ;; esac
expect_contains "$out" "  fqdn web.marathon.l4lb.thisdcos.directory"

in_range='vips.json: /apps/1/portDefinitions/0/labels/VIP_0: VIP "10.99.0.5:80": 10.99.0.5 is inside the named-VIP range 10.99.0.0-10.99.0.255, where names get their addresses; use a name (/app:port) or an address outside it'
out=$("$vipctl" -c vipd.json vips --no-checks vips.json 2>"$TMP/err"); rc=$?
expect_eq "$rc" 2 "vips with the config's ranges exit code"
expect_eq "$(cat "$TMP/err")" "$in_range" "vips with the config's ranges error"
case "$(awk '$1 == "/web:80" {print $3}' <<<"$out")" in 10.99.0.*:80) ;; *) fail "/web not in the configured range: $out" ;; esac
expect_contains "$out" "  fqdn web.fw.vips.example"
"$vipctl" validate vips.json -c vipd.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "validate with the config's ranges exit code"
expect_eq "$(cat "$TMP/err")" "$in_range" "validate with the config's ranges error"
"$vipctl" validate vips.json >/dev/null 2>&1; rc=$?
expect_eq "$rc" 0 "validate with the default ranges exit code"

# More names than the configured range holds: the daemon's build fails, and
# validate and vips say why, exit 2.
echo '{"lb": {"named_vip_range_v4": "10.99.0.0-10.99.0.0"}}' > narrow.json
cat > two.json <<'JSON'
{"apps": [{"id": "/a", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/a:80"}}]},
          {"id": "/b", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/b:80"}}]}]}
JSON
too_many="vipctl: 2 named VIPs, more than the 1 addresses of 10.99.0.0-10.99.0.0"
out=$("$vipctl" -c narrow.json validate two.json 2>"$TMP/err"); rc=$?
expect_eq "$rc" 2 "validate, range too small: exit code"
expect_eq "$(cat "$TMP/err")" "$too_many" "validate, range too small"
expect_contains "$out" "2 VIP labels from 1 files: 1 errors, 0 warnings"
"$vipctl" -c narrow.json vips --no-checks two.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "vips, range too small: exit code"
expect_eq "$(cat "$TMP/err")" "$too_many" "vips, range too small"

# A missing explicit config is an error; so is a bad one, located.
"$vipctl" -c "$TMP/none.json" validate vips.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "missing -c exit code"
expect_eq "$(cat "$TMP/err")" "$TMP/none.json: cannot open: No such file or directory" "missing -c message"
echo '{"checks": {"shel": "/bin/sh"}}' > typo.json
"$vipctl" check --config typo.json app.json >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "bad config exit code"
expect_eq "$(cat "$TMP/err")" "typo.json: /checks/shel: unknown setting" "bad config message"
finish
