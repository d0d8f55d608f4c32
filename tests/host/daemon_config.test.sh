#!/usr/bin/env bash
# vipd's start-up as an operator meets it: config errors located and exit 2,
# --check-config, and on a kernel without IPVS one clear line saying what is
# missing and how to get it, with nothing created.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
cd "$VIPD_SOURCE_DIR" || exit 1

cat > "$TMP/bad.json" <<'JSON'
{"apps": "examples/apps", "lb": {"drain_seconds": -3, "colour": "blue"}, "log_level": "loud"}
JSON
"$vipd" -c "$TMP/bad.json" --check-config >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "bad config exit code"
expect_eq "$(cat "$TMP/err")" "vipd: error: $TMP/bad.json: /lb/drain_seconds: expected an integer >= 0
vipd: error: $TMP/bad.json: /lb/colour: unknown setting
vipd: error: $TMP/bad.json: /log_level: expected \"warn\", \"info\" or \"debug\"" "bad config messages"

# The node's own address for the VIP routes' src must be an address.
cat > "$TMP/src.json" <<'JSON'
{"apps": "examples/apps", "lb": {"source_address": "10.0.0.300"}}
JSON
"$vipd" -c "$TMP/src.json" --check-config >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "bad lb.source_address exit code"
expect_eq "$(cat "$TMP/err")" "vipd: error: $TMP/src.json: /lb/source_address: expected an IPv4 or IPv6 address of this node, got \"10.0.0.300\"" "bad lb.source_address message"

# An explicit config that is missing is an error (the default may be absent).
"$vipd" -c "$TMP/missing.json" --check-config >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "missing -c file exit code"
expect_eq "$(cat "$TMP/err")" "vipd: error: $TMP/missing.json: cannot open: No such file or directory" "missing -c file message"

# What start-up checks, --check-config checks: the check user, the audit log,
# and the first table build (here an address VIP inside the configured named
# range). Fatal problems say error:, and nothing is created.
cat > "$TMP/apps.json" <<'JSON'
{"id": "/dns", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "10.99.0.53:53"}}]}
JSON
cat > "$TMP/start.json" <<JSON
{"apps": "$TMP/apps.json", "audit_log": "$TMP/no-such-dir/audit.log",
 "checks": {"run_as": "vipd-no-such-user"}, "lb": {"named_vip_range_v4": "10.99.0.0-10.99.0.255"}}
JSON
out=$("$vipd" -c "$TMP/start.json" --check-config 2>"$TMP/err"); rc=$?
expect_eq "$rc" 2 "start-up problems exit code"
expect_eq "$out" "" "no 'config ok' with fatal problems"
expect_eq "$(cat "$TMP/err")" "vipd: error: /checks/run_as: run-as user \"vipd-no-such-user\": no such user
vipd: error: /audit_log: cannot write \"$TMP/no-such-dir/audit.log\": No such file or directory
$TMP/apps.json: /portDefinitions/0/labels/VIP_0: VIP \"10.99.0.53:53\": 10.99.0.53 is inside the named-VIP range 10.99.0.0-10.99.0.255, where names get their addresses; use a name (/app:port) or an address outside it" "start-up problems"
if [ -e "$TMP/no-such-dir" ]; then fail "--check-config created the audit directory"; fi
if [ "$(id -u)" -ne 0 ]; then
  touch "$TMP/audit.log" && chmod 0444 "$TMP/audit.log"
  "$vipd" --apps examples/apps --audit "$TMP/audit.log" --check-config >/dev/null 2>"$TMP/err"; rc=$?
  expect_eq "$rc" 2 "read-only audit log exit code"
  expect_eq "$(cat "$TMP/err")" "vipd: error: /audit_log: cannot write \"$TMP/audit.log\": Permission denied" "read-only audit log"
fi

# First contact: version and help on stdout with exit 0, an unknown option named.
out=$("$vipd" --version); rc=$?
expect_eq "$rc" 0 "--version exit code"
case "$out" in "vipd "[0-9]*) ;; *) fail "--version printed [$out]" ;; esac
out=$("$vipd" --help 2>/dev/null); rc=$?
expect_eq "$rc" 0 "--help exit code"
expect_contains "$out" "usage: vipd [-c CONFIG]"
"$vipd" --colour >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "unknown option exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipd: unknown option "--colour"' "unknown option named"
"$vipd" --apps >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "missing value exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipd: option "--apps" needs a value' "missing value named"
# The same wording as vipctl's (src/common/opts.c) for each refusal.
"$vipd" --no-ipvs=yes >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "value given to a flag exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipd: option "--no-ipvs" takes no value' "value given to a flag named"
"$vipd" -q >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "unknown short option exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipd: unknown option "-q"' "unknown short option named"
"$vipd" -c >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "short option without its value exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipd: option "-c" needs a value' "short option without its value named"

out=$("$vipd" --apps examples/apps --check-config 2>&1); rc=$?
expect_eq "$rc" 0 "check-config on the examples"
expect_eq "$out" "config ok; 7 apps from examples/apps: 0 errors" "check-config summary"

# Linux takes interface names of 1 to 15 characters (IFNAMSIZ - 1): a longer
# lb.interface is fatal at start-up, so --check-config says so, located.
"$vipd" --apps examples/apps --interface vipd-0123456789a --check-config >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "16-character interface exit code"
expect_eq "$(cat "$TMP/err")" 'vipd: error: /lb/interface: interface name "vipd-0123456789a": expected 1 to 15 characters' "16-character interface"
echo '{"apps": "examples/apps", "lb": {"interface": "vipd-0123456789"}}' > "$TMP/if15.json"
out=$("$vipd" -c "$TMP/if15.json" --check-config 2>&1); rc=$?
expect_eq "$rc" 0 "15-character interface exit code"
expect_eq "$out" "config ok; 7 apps from examples/apps: 0 errors" "15-character interface"

"$vipd" --apps tests/data/mixed --check-config >/dev/null 2>&1
expect_eq "$?" 2 "check-config with a broken app"

if [ -e /proc/net/ip_vs ]; then
  echo "skip: this kernel has IPVS; the no-IPVS message is checked in the VM tests only"
else
  out=$("$vipd" --apps examples/apps --audit "$TMP/audit.log" --interface vipdtest9 2>&1); rc=$?
  expect_eq "$rc" 1 "exit code without IPVS"
  expect_eq "$(echo "$out" | wc -l)" 1 "one line"
  expect_contains "$out" "vipd: fatal: IPVS: the running kernel"
  expect_contains "$out" "has no IPVS"
  expect_contains "$out" "modprobe ip_vs"
  expect_contains "$out" "CONFIG_IP_VS"
  if ip link show vipdtest9 >/dev/null 2>&1; then fail "an interface was created without IPVS"; fi
fi
finish
