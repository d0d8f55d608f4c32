#!/usr/bin/env bash
# vipctl against a live vipd (--no-ipvs, real backends on loopback):
# `vipctl status` and `vipctl backends` read the API (address from -c's
# api.listen, or --api, options anywhere) and print aligned tables, --json
# for scripts; "which backends are out of rotation, and why" is one command,
# and a VIP with no backend in rotation is marked and exits 1; vipd's stderr
# says one line per rotation change, as HAProxy does. Unreachable: one
# stderr line, exit 69.
set -u
. "$VIPD_SOURCE_DIR/tests/host/api_lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"

# Nothing listening: one clear line, EX_UNAVAILABLE.
free_port=$((api + 1))
out=$("$vipctl" status --api "127.0.0.1:$free_port" 2>&1); rc=$?
expect_eq "$rc" 69 "exit code when vipd does not answer"
expect_eq "$out" "vipctl: vipd is not running or its API is off: no answer at 127.0.0.1:$free_port (set api.listen)" \
  "message when vipd does not answer"
out=$("$vipctl" backends --api nope 2>&1); rc=$?
expect_eq "$rc" 64 "exit code of a malformed --api"
expect_eq "$out" 'vipctl: --api: API listen address "nope": expected PORT or ADDR:PORT (IPv6 in brackets), port 1-65535' \
  "malformed --api"

api_start
wait_for /v1/vips "$(backend web.a health)" healthy 10
wait_for /v1/vips "$(backend web.b health)" unhealthy 10
vip=$(get /v1/vips | json "d['vips'][0]['vip']")

# status: the address from the config's api.listen (a port alone: loopback).
out=$("$vipctl" status -c "$TMP/vipd.json"); rc=$?
expect_eq "$rc" 0 "status exit code"
expect_contains "$out" "apps     $TMP/apps: 1 apps, 2 tasks, 0 errors"
expect_contains "$out" "ipvs     off (planned only), 1 services,"
expect_contains "$out" "(vipd $("$vipd" --version | cut -d' ' -f2)), up "
expect_eq "$("$vipctl" status --json --api "127.0.0.1:$api" | json "d['schema'], d['apps']['tasks']")" "1 2" \
  "status --json"

# backends: one healthy, one failing with its reason; aligned columns.
out=$("$vipctl" -c "$TMP/vipd.json" backends); rc=$?
expect_eq "$rc" 0 "backends exit code with a backend in rotation"
expected="/web $vip TCP: 1/2 in rotation
  TASK  APP  ADDRESS         HEALTH    WEIGHT PHASE REASON
  web.a /web 127.0.0.1:$port_a healthy   1      in    -
  web.b /web 127.0.0.1:$port_b unhealthy 0      out   check 0 HTTP: http_status, HTTP 500: HTTP 500
1 VIPs, 0 with no backend in rotation"
expect_eq "$out" "$expected" "backends table"
expect_eq "$("$vipctl" backends /web --json -c "$TMP/vipd.json" | json "d['ok'], d['vips'][0]['in_rotation'], d['vips'][0]['backends_total'], [b.get('reason') for b in d['vips'][0]['backends']]")" \
  "True 1 2 [None, 'check 0 HTTP: http_status, HTTP 500: HTTP 500']" "backends --json"
out=$("$vipctl" backends --api "$api" /nope 2>&1); rc=$?
expect_eq "$rc" 1 "exit code for an unknown VIP"
expect_eq "$out" "vipctl backends: no VIP or app named \"/nope\" on vipd at 127.0.0.1:$api" "unknown VIP"

# web.a fails: the VIP has no backend in rotation, marked, exit 1.
kill $backend_a; backend_a=
wait_for /v1/vips "$(backend web.a health)" unhealthy 10
out=$("$vipctl" backends --api "$api" "$vip"); rc=$?
expect_eq "$rc" 1 "backends exit code with no backend in rotation"
expect_contains "$out" "/web $vip TCP: 0/2 in rotation  << NO BACKEND IN ROTATION"
expect_contains "$out" "  web.a /web 127.0.0.1:$port_a unhealthy 0      draining draining ("
expect_contains "$out" "s left): check 0 HTTP: connect_failed: Failed to connect to 127.0.0.1 port $port_a"
expect_contains "$out" "1 VIPs, 1 with no backend in rotation"
expect_eq "$("$vipctl" backends --api "$api" --json | json "d['ok']")" False "backends --json ok"

# vipd's stderr: one line per rotation change, HAProxy's way.
expect_contains "$(cat "$TMP/vipd.err")" \
  "vipd: info: backend /web 127.0.0.1:$port_a (task web.a) is UP, reason: HTTP 200, 1 of 2 in rotation"
expect_contains "$(cat "$TMP/vipd.err")" \
  "vipd: warning: backend /web 127.0.0.1:$port_a (task web.a) is DOWN, reason: connect_failed: Failed to connect to 127.0.0.1 port $port_a"
expect_contains "$(cat "$TMP/vipd.err")" ", 0 of 2 left in rotation"
expect_eq "$(grep -c 'task web.b' "$TMP/vipd.err")" 0 "no rotation line for web.b (never in rotation)"

kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
out=$("$vipctl" status --api "$api" 2>&1); rc=$?
expect_eq "$rc:$out" "69:vipctl: vipd is not running or its API is off: no answer at 127.0.0.1:$api (set api.listen)" \
  "status after vipd stopped"
finish
