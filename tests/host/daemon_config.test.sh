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
expect_eq "$(cat "$TMP/err")" "vipd: warning: $TMP/bad.json: /lb/drain_seconds: expected an integer >= 0
vipd: warning: $TMP/bad.json: /lb/colour: unknown setting
vipd: warning: $TMP/bad.json: /log_level: expected \"warn\", \"info\" or \"debug\"" "bad config messages"

out=$("$vipd" --apps examples/apps --check-config 2>&1); rc=$?
expect_eq "$rc" 0 "check-config on the examples"
expect_eq "$out" "config ok; 7 apps from examples/apps: 0 errors" "check-config summary"

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
