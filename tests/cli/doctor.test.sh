#!/usr/bin/env bash
# vipctl doctor on this host, whose kernel has no IPVS: the first line says so
# with the fix, exit 1; the settings-side findings (apps, check user, the
# ephemeral ports the checks need) each with their exact line; --json says the
# same; lb.ipvs false skips the kernel's side. The VM test has IPVS.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"

if [ -e /proc/net/ip_vs ]; then
  echo "skip: this host has IPVS (tests/vm/doctor.test.sh covers that case)"
  exit 0
fi

mkdir -p "$TMP/apps" "$TMP/bad"
cat > "$TMP/apps/web.json" <<'JSON'
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "10.9.0.1:80"}}],
 "healthChecks": [{"protocol": "TCP", "intervalSeconds": 10}],
 "tasks": [{"id": "web.1", "host": "127.0.0.1", "ports": [31001]}]}
JSON
echo '{"id": "/broken", "healthChecks": [{"intervalSeconds": -5}]}' > "$TMP/bad/broken.json"
config() { # apps run_as ipvs
  printf '{"apps": "%s", "checks": {"run_as": "%s"}, "lb": {"ipvs": %s}}\n' "$1" "$2" "$3" \
    > "$TMP/vipd.json"
}
# Exit 1 exactly when some line is a FAIL: the exit status tells the truth.
expect_exit_matches_findings() { # rc output what
  if printf '%s\n' "$2" | grep -q '^FAIL'; then expect_eq "$1" 1 "$3: exit with a FAIL"
  else expect_eq "$1" 0 "$3: exit with no FAIL"; fi
}

config "$TMP/apps" nobody true
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>"$TMP/err"); rc=$?
expect_eq "$rc" 1 "no IPVS: exit status"
first=$(printf '%s\n' "$out" | head -1)
case "$first" in
  "FAIL  ipvs        the running kernel ($(uname -r)) has no IPVS loaded: /proc/net/ip_vs is absent"*) ;;
  *) fail "no IPVS: first line [$first]" ;;
esac
expect_contains "$first" "; fix: modprobe ip_vs"
expect_contains "$first" "CONFIG_IP_VS"
expect_eq "$(cat "$TMP/err")" "" "no IPVS: nothing on stderr"
expect_contains "$out" "ok    apps        app source $TMP/apps: 1 apps from 1 files"
expect_contains "$out" "ok    user        check user nobody (uid $(id -u nobody))"
# The IPVS sysctls do not exist yet, and IPVS's table cannot be read.
expect_contains "$out" "skip  sysctl      net.ipv4.vs.conntrack: exists once IPVS is loaded"
expect_contains "$out" "skip  timeouts    needs IPVS"
expect_contains "$out" "skip  conflicts   needs IPVS"
if ip link show vipd0 >/dev/null 2>&1; then :; else
  expect_contains "$out" "FAIL  interface   VIP interface vipd0 does not exist; fix: vipd creates it at start: start vipd (systemctl start vipd)"
fi
expect_exit_matches_findings "$rc" "$out" "no IPVS"

# --json: the same findings, in the same order.
json=$("$vipctl" -c "$TMP/vipd.json" doctor --json); jrc=$?
expect_eq "$jrc" 1 "--json: exit status"
js() { printf '%s' "$json" | python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
expect_eq "$(js 'str(d["ok"]).lower()')" false "--json: ok"
expect_eq "$(js 'd["findings"][0]["check"], d["findings"][0]["status"]')" "ipvs FAIL" "--json: IPVS first"
expect_contains "$(js 'd["findings"][0]["fix"]')" "modprobe ip_vs"
expect_eq "$(js 'len(d["findings"])')" "$(printf '%s\n' "$out" | wc -l)" "--json: one finding per line"
expect_eq "$(js '[f["message"] for f in d["findings"] if f["check"] == "user"][0]')" \
  "check user nobody (uid $(id -u nobody))" "--json: a message as in the text"

# A missing check user, definitions with errors: each its line and fix.
config "$TMP/bad" vipd-no-such-user true
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1); rc=$?
expect_eq "$rc" 1 "bad apps, no user: exit status"
expect_contains "$out" "FAIL  user        check user vipd-no-such-user does not exist; fix: useradd --system --no-create-home --shell /usr/sbin/nologin vipd-no-such-user, or set \"checks.run_as\""
expect_contains "$out" "FAIL  apps        app source $TMP/bad: 2 error(s) in the definitions (those apps are skipped); fix: vipctl validate $TMP/bad shows each, located"
config "$TMP/none" nobody true
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1)
expect_contains "$out" "FAIL  apps        app source $TMP/none: No such file or directory; fix: create $TMP/none or set \"apps\" in vipd's config"
# Marathon's masters as the source: read as vipctl validate reads them, and
# named without their credentials (port 1 on loopback: nothing listens).
config "http://ops:s3cr3t@127.0.0.1:1" nobody true
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1)
expect_contains "$out" "FAIL  apps        app source Marathon http://127.0.0.1:1: marathon http://127.0.0.1:1 /v2/apps?embed=apps.tasks: Couldn't connect to server; fix: start Marathon there, or correct \"apps\" and marathon.* in vipd's config"
expect_not_contains "$out" "s3cr3t"

# More checks than ephemeral ports: 500 tasks with a TCP check every second
# hold 500 * (60 s of TIME_WAIT + 1) ports.
python3 - "$TMP/many/apps.json" <<'PY'
import json, os, sys
os.makedirs(os.path.dirname(sys.argv[1]))
tasks = [{"id": "t.%d" % i, "host": "127.0.0.1", "ports": [20000 + i]} for i in range(500)]
app = {"id": "/many", "portDefinitions": [{"port": 0}],
       "healthChecks": [{"protocol": "TCP", "intervalSeconds": 1}], "tasks": tasks}
json.dump(app, open(sys.argv[1], "w"))
PY
read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range
config "$TMP/many" nobody true
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1); rc=$?
width=$((hi - lo + 1))
if [ "$width" -lt 30500 ]; then
  expect_contains "$out" "FAIL  ports       net.ipv4.ip_local_port_range $lo-$hi has $width ports; the HTTP and TCP checks can hold 30500 at once (each run and 60 s of TIME_WAIT); fix: sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\""
else
  expect_contains "$out" "ok    ports       net.ipv4.ip_local_port_range $lo-$hi: $width ports, the checks hold at most 30500"
fi

# lb.ipvs false: vipd touches no kernel state, so the kernel's side is skipped.
config "$TMP/apps" nobody false
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1); rc=$?
expect_eq "$(printf '%s\n' "$out" | head -1)" "skip  ipvs        lb.ipvs is false: vipd programs no kernel state, the kernel checks do not apply" "lb.ipvs false: first line"
expect_eq "$(printf '%s\n' "$out" | grep -cE '^(ok|FAIL|skip) +(modules|sysctl|timeouts|interface|addresses|conflicts) ')" 0 "lb.ipvs false: no kernel finding"
expect_exit_matches_findings "$rc" "$out" "lb.ipvs false"

# Usage and config errors, as every subcommand.
"$vipctl" doctor extra >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "operand: exit status"
expect_eq "$(head -1 "$TMP/err")" 'vipctl doctor: unexpected operand "extra"' "operand: message"
echo '{"lb": {"ipvs": "yes"}}' > "$TMP/vipd.json"
"$vipctl" -c "$TMP/vipd.json" doctor >/dev/null 2>&1; rc=$?
expect_eq "$rc" 2 "bad config: exit status"
expect_eq "$("$vipctl" doctor --help)" "usage: vipctl doctor [--json]" "--help"
finish
