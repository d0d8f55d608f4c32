#!/usr/bin/env bash
# vipctl's command line as GNU tools and git read theirs: options before or
# after the operands (getopt_long permutes), "--" ends them, an unknown
# option or subcommand is named, --help on stdout, and the exit codes
# 0 / 1 (found a problem) / 2 (bad input) / 64 (bad usage).
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"
cd "$TMP" || exit 1

# A curl check on a loopback port nothing listens on: it fails either way,
# and the line says which path ran it.
closed=$((21000 + RANDOM % 4000))
mkdir apps
cat > apps/svc.json <<JSON
{"id": "/svc", "portDefinitions": [{"port": 0}],
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "curl -sf http://127.0.0.1:\$PORT0/"}, "timeoutSeconds": 2}],
 "tasks": [{"id": "svc.a", "host": "127.0.0.1", "ports": [$closed]}]}
JSON

out=$("$vipctl" check apps/ --no-native 2>"$TMP/err"); rc=$?
expect_eq "$rc" 1 "check apps/ --no-native exit code"
expect_eq "$(cat "$TMP/err")" "" "check apps/ --no-native stderr"
expect_contains "$out" "/svc svc.a check 0 COMMAND shell (native curl checks are switched off): exit_nonzero exit 7"
expect_eq "$(echo "$out" | tail -n1)" "1 checks run: not all healthy" "check apps/ --no-native summary"

out=$("$vipctl" check apps/ 2>&1)
expect_contains "$out" "/svc svc.a check 0 COMMAND native: exit_nonzero exit 7"
out=$("$vipctl" check apps/ --app /svc --no-native 2>&1)
expect_contains "$out" "COMMAND shell (native curl checks are switched off)"
out=$("$vipctl" check --app=/svc apps/ 2>&1)
expect_contains "$out" "/svc svc.a check 0 COMMAND native"

# "--" ends the options: what follows is a file, even when it looks like one.
cp apps/svc.json ./--no-native
out=$("$vipctl" check -- --no-native 2>&1); rc=$?
expect_eq "$rc" 1 "check -- --no-native exit code"
expect_contains "$out" "/svc svc.a check 0 COMMAND native: exit_nonzero exit 7"
"$vipctl" validate -- --missing >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "validate -- --missing exit code"
expect_eq "$(cat "$TMP/err")" "--missing: cannot open: No such file or directory" "validate -- --missing"

# Options after operands for every subcommand.
out=$("$vipctl" vips apps/ --no-checks 2>&1); rc=$?
expect_eq "$rc" 0 "vips apps/ --no-checks exit code"
expect_contains "$out" "0 VIP services, 0 backends (checks not run)"
out=$("$vipctl" validate apps/ -c /dev/null 2>&1); rc=$?
expect_eq "$rc" 2 "validate apps/ -c /dev/null exit code"
expect_contains "$out" "/dev/null: "

# Unknown options and subcommands are named; bad usage is 64.
"$vipctl" check apps/ --bogus >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "unknown option exit code"
expect_eq "$(cat "$TMP/err")" 'vipctl check: unknown option "--bogus"
usage: vipctl check [-c CONFIG] [--app ID] [--no-native] [--json] FILE|DIR|URL...' "unknown option message"
"$vipctl" lint -z apps/ >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "unknown short option exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipctl lint: unknown option "-z"' "unknown short option message"
"$vipctl" vips --no-checks=yes apps/ >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "value given to a flag exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipctl vips: option "--no-checks" takes no value' "value given to a flag message"
"$vipctl" check apps/ --app >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "missing value exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipctl check: option "--app" needs a value' "missing value message"
"$vipctl" frobnicate apps/ >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "unknown subcommand exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipctl: unknown command "frobnicate"' "unknown subcommand message"
"$vipctl" --frob validate apps/ >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 64 "unknown global option exit code"
expect_eq "$(head -n1 "$TMP/err")" 'vipctl: unknown option "--frob"' "unknown global option message"
for cmd in validate check vips lint; do
  "$vipctl" $cmd >/dev/null 2>"$TMP/err"; rc=$?
  expect_eq "$rc" 64 "$cmd without operands exit code"
  expect_eq "$(head -n1 "$TMP/err")" "vipctl $cmd: expected a FILE or DIR to read" "$cmd without operands message"
done
"$vipctl" >/dev/null 2>&1; expect_eq "$?" 64 "no subcommand exit code"

# Help on stdout, exit 0, for vipctl and each subcommand, wherever it stands.
out=$("$vipctl" --help 2>/dev/null); rc=$?
expect_eq "$rc" 0 "--help exit code"
expect_contains "$out" "usage: vipctl [-c CONFIG] COMMAND [OPTIONS] [--] ARGS"
expect_contains "$out" "  -c, --config FILE"
out=$("$vipctl" check apps/ --help 2>/dev/null); rc=$?
expect_eq "$rc" 0 "check --help exit code"
expect_eq "$out" "usage: vipctl check [-c CONFIG] [--app ID] [--no-native] [--json] FILE|DIR|URL..." "check --help"
out=$("$vipctl" --version); rc=$?
expect_eq "$rc" 0 "--version exit code"
case "$out" in "vipctl "[0-9]*) ;; *) fail "--version printed [$out]" ;; esac
finish
