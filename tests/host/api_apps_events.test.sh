#!/usr/bin/env bash
# /v1/apps/ID, /v1/events and the last check result per backend in /v1/vips,
# against the real daemon (--no-ipvs) and real backends on loopback
# (docs/api.md): each check's last result (outcome, HTTP status, latency,
# output, time), the health transitions in order with sequence numbers, and
# `since` returning only newer ones; a backend made to fail appears there.
set -u
. "$VIPD_SOURCE_DIR/tests/host/api_lib.sh"
api_start
wait_for /v1/vips "$(backend web.a health)" healthy 10
wait_for /v1/vips "$(backend web.b health)" unhealthy 10

# One app: its declared check and its tasks with each check's last result.
app=$(get /v1/apps/web)
expect_eq "$(echo "$app" | json "d['schema'], d['app']['id'], d['app']['source']")" \
  "1 /web $TMP/apps/web.json" "the app"
expect_eq "$(echo "$app" | json "d['app']['checks'][0]['protocol'], d['app']['checks'][0]['path'], d['app']['checks'][0]['port_index'], d['app']['checks'][0]['interval_seconds']")" \
  "HTTP /health 0 1" "the app's check as declared"
task() { echo "[t for t in d['app']['tasks'] if t['task'] == '$1'][0]"; }
expect_eq "$(echo "$app" | json "$(task web.a)['health'], $(task web.a)['state'], $(task web.a)['ports'][0]")" \
  "healthy TASK_RUNNING $port_a" "web.a in the app"
expect_eq "$(echo "$app" | json "$(task web.a)['checks'][0]['last']['outcome'], $(task web.a)['checks'][0]['last']['http_status'], $(task web.a)['checks'][0]['last']['output']")" \
  "ok 200 HTTP 200" "web.a's last result"
expect_eq "$(echo "$app" | json "$(task web.b)['checks'][0]['health'], $(task web.b)['checks'][0]['last']['outcome'], $(task web.b)['checks'][0]['last']['http_status']")" \
  "unhealthy http_status 500" "web.b's last result"
expect_eq "$(echo "$app" | json "0 < $(task web.b)['checks'][0]['last']['latency_ms'] < 1000")" True "latency"
at=$(echo "$app" | json "$(task web.b)['checks'][0]['last']['at']")
case "$at" in 20[0-9][0-9]-[01][0-9]-[0-3][0-9]T*.[0-9][0-9][0-9]Z) ;; *) fail "result time: [$at]" ;; esac
expect_eq "$(echo "$app" | json "$(task web.b)['checks'][0]['last']['consecutive_failures'] >= 1")" True \
  "web.b's consecutive failures"

# The same result under each backend of /v1/vips.
vips=$(get /v1/vips)
expect_eq "$(echo "$vips" | json "$(backend web.b checks)[0]['last']['http_status'], $(backend web.b checks)[0]['last']['output']")" \
  "500 HTTP 500" "web.b's last result in /v1/vips"

# Unknown apps are a JSON 404; an id with slashes is the path's rest.
out=$(curl -s --max-time 5 -w ' %{http_code}' "$base/v1/apps/nope")
expect_eq "$out" '{"error":"no such app","path":"/v1/apps/nope"} 404' "unknown app"

# The events: each task's first health, in sequence.
events=$(get /v1/events)
expect_eq "$(echo "$events" | json "sorted((e['task'], e['from'], e['to']) for e in d['events'] if e['type'] == 'health')")" \
  "[('web.a', 'unknown', 'healthy'), ('web.b', 'unknown', 'unhealthy')]" "first transitions"
expect_eq "$(echo "$events" | json "[e['seq'] for e in d['events']] == list(range(1, d['last'] + 1))")" True \
  "sequence numbers from 1"
expect_eq "$(echo "$events" | json "[e['output'] for e in d['events'] if e['task'] == 'web.b'][0]")" \
  "HTTP 500" "the cause of web.b's transition"
last=$(echo "$events" | json "d['last']")
expect_eq "$(get "/v1/events?since=$last" | json "d['events'], d['last']")" "[] $last" "nothing newer yet"

# web.a fails: one new event, found with since=.
kill $backend_a; backend_a=
wait_for "/v1/events?since=$last" "[(e['seq'], e['task'], e['from'], e['to'], e['outcome']) for e in d['events']]" \
  "[($((last + 1)), 'web.a', 'healthy', 'unhealthy', 'connect_failed')]" 10
expect_eq "$(get /v1/apps/web | json "$(task web.a)['checks'][0]['last']['outcome'], $(task web.a)['health']")" \
  "connect_failed unhealthy" "web.a's last result after it fails"

# A malformed since is a 400 saying what is expected.
out=$(curl -s --max-time 5 -w ' %{http_code}' "$base/v1/events?since=-1")
expect_eq "$out" '{"error":"since: expected a sequence number (0 or more)","path":"/v1/events"} 400' \
  "malformed since"

kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
finish
