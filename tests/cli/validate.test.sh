#!/usr/bin/env bash
# vipctl validate as an operator runs it: the examples summarise cleanly, every
# malformed file gives its exact located error and exit code 2, and a broken
# app does not hide the good ones.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"

cd "$VIPD_SOURCE_DIR" || exit 1
out=$("$vipctl" validate examples/apps 2>"$TMP/err"); rc=$?
expect_eq "$rc" 0 "validate examples exit code"
expect_eq "$(cat "$TMP/err")" "" "validate examples stderr"
expect_eq "$(echo "$out" | tail -n1)" \
  "7 apps, 9 tasks, 8 health checks (2 HTTP, 1 HTTPS, 2 TCP, 3 COMMAND), 6 VIP labels from 4 files: 0 errors, 0 warnings" \
  "examples summary"
expect_contains "$out" "app /prod/backend/orders (examples/apps/prod-group.json /groups/0/apps/0)"
expect_contains "$out" "  port 0: 0/tcp,udp name dns VIP_0=/dns:53"
expect_contains "$out" "  check 0: HTTP portIndex 0 path /health every 5s, timeout 2s, grace 15s, delay 15s, maxConsecutiveFailures 3"

cd "$VIPD_SOURCE_DIR/tests/data" || exit 1
for f in bad/*.json; do
  "$vipctl" validate "$f" >/dev/null 2>"$TMP/err"; rc=$?
  expect_eq "$rc" 2 "$f exit code"
  expect_eq "$(cat "$TMP/err")" "$(cat "${f%.json}.expected")" "$f errors"
done

out=$("$vipctl" validate mixed 2>"$TMP/err"); rc=$?
expect_eq "$rc" 2 "mixed exit code"
expect_eq "$(cat "$TMP/err")" "mixed/b-bad.json: /apps/1/portDefinitions/0/port: expected a port number from 0 to 65535, got 100000" "mixed errors"
expect_contains "$out" "app /good (mixed/a-good.json)"
expect_contains "$out" "app /also-good (mixed/b-bad.json /apps/0)"
expect_contains "$out" "2 apps, 1 tasks, 1 health checks (0 HTTP, 0 HTTPS, 1 TCP, 0 COMMAND), 1 VIP labels from 2 files: 1 errors, 0 warnings"

"$vipctl" validate /nonexistent 2>"$TMP/err" >/dev/null; rc=$?
expect_eq "$rc" 2 "missing path exit code"
expect_eq "$(cat "$TMP/err")" "/nonexistent: cannot open: No such file or directory" "missing path error"

"$vipctl" validate >/dev/null 2>&1; expect_eq "$?" 64 "usage exit code"
finish
