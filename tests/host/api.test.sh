#!/usr/bin/env bash
# The HTTP API of the real daemon (--no-ipvs) against real backends on
# loopback (docs/api.md): /v1/status and /v1/vips carry what the test set up
# (a backend made to fail shows as unhealthy with weight 0), /metrics passes
# `promtool check metrics` and counts the checks and transitions the test
# caused, unknown paths are a JSON 404, anything but GET/HEAD a 405. The
# listen address comes from the config file as a port alone (loopback), and
# a malformed one is a located error.
set -u
. "$VIPD_SOURCE_DIR/tests/host/api_lib.sh"
command -v promtool >/dev/null || { echo "FAIL: no promtool (prometheus): scripts/setup.sh installs it"; exit 1; }
api_backends
api_apps

# A malformed api.listen is a located error.
echo '{"api": {"listen": "localhost:http"}}' > "$TMP/bad.json"
out=$("$vipd" -c "$TMP/bad.json" --apps "$TMP/apps" --check-config 2>&1); rc=$?
expect_eq "$rc" 2 "exit code of a malformed api.listen"
expect_contains "$out" "vipd: error: $TMP/bad.json: /api/listen: expected PORT or ADDR:PORT (IPv6 in brackets)"

out=$("$vipd" --api 127.0.0.1:0 --apps "$TMP/apps" --check-config 2>&1); rc=$?
expect_eq "$rc" 2 "exit code of a malformed --api"
expect_contains "$out" 'vipd: error: --api: API listen address "127.0.0.1:0": expected PORT or ADDR:PORT (IPv6 in brackets), port 1-65535'

api_vipd
wait_for /v1/vips "$(backend web.a health)" healthy 10
wait_for /v1/vips "$(backend web.b health)" unhealthy 10

expect_contains "$(cat "$TMP/vipd.err")" "vipd: info: API on http://127.0.0.1:$api/ (docs/api.md)"
vips=$(get /v1/vips)
expect_eq "$(echo "$vips" | json "d['schema']")" 1 "vips schema"
expect_eq "$(echo "$vips" | json "len(d['vips'])")" 1 "number of VIPs"
expect_eq "$(echo "$vips" | json "d['vips'][0]['name']")" /web "VIP name"
expect_eq "$(echo "$vips" | json "d['vips'][0]['protocol']")" TCP "VIP protocol"
vip=$(echo "$vips" | json "d['vips'][0]['vip']")
case "$vip" in 11.*:80) ;; *) fail "VIP address: expected 11.x.x.x:80 in the named range, got [$vip]" ;; esac
expect_eq "$(echo "$vips" | json "'web.marathon.l4lb.thisdcos.directory' in d['vips'][0]['fqdns']")" \
  True "the VIP's FQDNs"
expect_eq "$(echo "$vips" | json "$(backend web.a address)")" "127.0.0.1:$port_a" "a's address"
expect_eq "$(echo "$vips" | json "$(backend web.a app)")" /web "a's app"
expect_eq "$(echo "$vips" | json "$(backend web.a weight)")" 1 "a's weight"
expect_eq "$(echo "$vips" | json "$(backend web.a in_rotation)")" True "a in rotation"
expect_eq "$(echo "$vips" | json "$(backend web.a phase)")" in "a's phase"
expect_eq "$(echo "$vips" | json "$(backend web.b weight)")" 0 "b's weight"
expect_eq "$(echo "$vips" | json "$(backend web.b in_rotation)")" False "b in rotation"

status=$(get /v1/status)
expect_eq "$(echo "$status" | json "d['schema']")" 1 "status schema"
expect_eq "vipd $(echo "$status" | json "d['version']")" "$("$vipd" --version)" "version"
expect_eq "$(echo "$status" | json "d['apps']['apps'], d['apps']['tasks'], d['apps']['path']")" \
  "1 2 $TMP/apps" "apps in the status"
expect_eq "$(echo "$status" | json "d['lb']['ipvs'], d['lb']['services']")" "False 1" "lb in the status"
expect_eq "$(echo "$status" | json "d['checks']['instances'] == 2 and d['checks']['completed'] >= 2")" \
  True "check load in the status"
expect_eq "$(echo "$status" | json "d['lb']['rounds'] >= 1 and d['uptime_seconds'] > 0")" True \
  "rounds and uptime in the status"
expect_eq "$(echo "$status" | json "d['loads']['count'], d['loads']['apps'], d['loads']['errors']")" \
  "1 1 0" "the first load in the status"
expect_eq "$(echo "$status" | json "'last_error' in d['lb']")" False "no kernel error under --no-ipvs"

# The metrics, linted by Prometheus's own tool, with the values caused here.
get /metrics > "$TMP/metrics"
lint=$(promtool check metrics < "$TMP/metrics" 2>&1); rc=$?
expect_eq "$rc" 0 "promtool check metrics exit code ($lint)"
expect_eq "$lint" "" "promtool lint output"
metric() { awk -v k="$1" '$1 == k {print $2}' "$TMP/metrics"; }
ge() { python3 -c "import sys; sys.exit(0 if float('${1:-0}') >= $2 else 1)" || fail "$3: expected >= $2, got [$1]"; }
ge "$(metric 'vipd_checks_total{kind="http"}')" 2 "HTTP checks run"
ge "$(metric 'vipd_checks_failed_total{kind="http"}')" 1 "HTTP checks failed"
expect_eq "$(metric 'vipd_checks_total{kind="command"}')" 0 "COMMAND checks run"
expect_eq "$(metric 'vipd_task_health_transitions_total{to="healthy"}')" 1 "transitions to healthy"
expect_eq "$(metric 'vipd_task_health_transitions_total{to="unhealthy"}')" 1 "transitions to unhealthy"
expect_eq "$(metric "vipd_vip_backends{vip=\"$vip\",protocol=\"TCP\",state=\"healthy\"}")" 1 "healthy backends"
expect_eq "$(metric "vipd_vip_backends{vip=\"$vip\",protocol=\"TCP\",state=\"unhealthy\"}")" 1 "unhealthy backends"
ge "$(metric vipd_reconcile_rounds_total)" 1 "reconcile rounds"
# --no-ipvs: no kernel counters at all (absent, not zeros that would look measured).
expect_eq "$(grep -c '^vipd_ipvs_\(service\|backend\)_' "$TMP/metrics")" 0 "no kernel counter families under --no-ipvs"
expect_eq "$(get /v1/vips | json "'kernel' in d['vips'][0] or any('kernel' in b for b in d['vips'][0]['backends'])")" \
  False "no kernel counters in /v1/vips under --no-ipvs"
expect_eq "$(metric 'vipd_check_duration_seconds_count{kind="http"}')" \
  "$(metric 'vipd_checks_total{kind="http"}')" "HTTP check durations observed"
# Loopback checks finish well inside a second.
expect_eq "$(metric 'vipd_check_duration_seconds_bucket{kind="http",le="1"}')" \
  "$(metric 'vipd_checks_total{kind="http"}')" "HTTP checks done within 1 s"

# Unknown paths and methods.
out=$(curl -s --max-time 5 -w ' %{http_code} %{content_type}' "$base/v1/nope")
expect_eq "$out" '{"error":"not found","path":"/v1/nope"} 404 application/json' "unknown path"
out=$(curl -s --max-time 5 -X POST -d x -D - -o /dev/null "$base/v1/status" | tr -d '\r')
expect_contains "$out" "HTTP/1.1 405"
expect_contains "$out" "Allow: GET, HEAD"
out=$(curl -s --max-time 5 -I -o /dev/null -w '%{http_code}' "$base/v1/status")
expect_eq "$out" 200 "HEAD /v1/status"

# A second vipd cannot take the API's port: it stops, saying why.
out=$("$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit2.log" --api "$api" --run-for 5 2>&1); rc=$?
expect_eq "$rc" 1 "exit code when the API's port is taken"
expect_contains "$out" "API: cannot listen on \"$api\""

# Backend a fails too: unhealthy, weight 0, counted.
kill $backend_a $backend_b; backend_a= backend_b=
wait_for /v1/vips "$(backend web.a health), $(backend web.a weight)" "unhealthy 0" 10
vips=$(get /v1/vips)
expect_eq "$(echo "$vips" | json "$(backend web.a phase)")" draining "a's phase after failing"
expect_eq "$(echo "$vips" | json "0 < $(backend web.a drain_seconds_left) <= 30")" True \
  "a drains for at most lb.drain_seconds (30)"
expect_eq "$(echo "$vips" | json "$(backend web.b phase)")" out "b's phase (never in rotation)"
get /metrics > "$TMP/metrics"
expect_eq "$(metric 'vipd_task_health_transitions_total{to="unhealthy"}')" 2 "transitions to unhealthy"
expect_eq "$(metric "vipd_vip_backends{vip=\"$vip\",protocol=\"TCP\",state=\"healthy\"}")" 0 "healthy backends"
# The loop time of the requests answered so far: the first scrape (this
# one's own is counted once it is answered), GET and HEAD /v1/status, the
# 404 and the 405; a histogram whose +Inf bucket is its count.
req() { metric "vipd_api_request_duration_seconds_$1"; }
expect_eq "$(req 'count{path="/metrics"}')" 1 "scrapes counted"
expect_eq "$(req 'bucket{path="/metrics",le="+Inf"}')" 1 "scrapes in the +Inf bucket"
ge "$(req 'sum{path="/metrics"}')" 0.000001 "the first scrape's loop time"
expect_eq "$(req 'count{path="/v1/status"}')" 2 "status requests counted"
expect_eq "$(req 'count{path="other"}')" 2 "the 404 and the 405 counted"
expect_eq "$(req 'count{path="/v1/apps"}')" 0 "no /v1/apps request yet"
ge "$(metric 'vipd_api_request_cpu_seconds_total{path="/metrics"}')" 0.000001 "the first scrape's CPU time"
expect_eq "$(metric 'vipd_api_request_cpu_seconds_total{path="/v1/apps"}')" 0.000000 "no CPU time for requests not made"

# A reload adds an app without checks: its VIP and task appear, healthy.
cat > "$TMP/apps/db.json" <<JSON
{"id": "/db", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "10.0.0.9:5432"}}],
 "tasks": [{"id": "db.1", "host": "127.0.0.1", "ports": [$port_b]}]}
JSON
kill -HUP $vipd_pid
wait_for /v1/vips "[(v['vip'], b['task'], b['health'], b['weight']) for v in d['vips'] for b in v['backends']][0]" \
  "10.0.0.9:5432 db.1 healthy 1" 10
expect_eq "$(get /v1/status | json "d['loads']['count'], d['loads']['apps'], d['loads']['kept_last_good']")" \
  "2 2 0" "the reload in the status"

kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
finish
