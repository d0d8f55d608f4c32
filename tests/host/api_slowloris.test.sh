#!/usr/bin/env bash
# The HTTP API against hostile clients, on loopback, with the real daemon
# (--no-ipvs) running HTTP checks against real backends:
#  - 64 connections from 8 addresses (the connection limit) send a request
#    line, then one header byte every second: each is closed about
#    API_REQUEST_DEADLINE_S (10 s) after it connected, however the bytes
#    trickle in, a new client gets /v1/status within that deadline, and the
#    checks keep running on time meanwhile (counted in /metrics);
#  - 20 connections from one address: at most 8 (the per-address limit)
#    stay open;
#  - a request with 64 KiB of headers is refused (431 or 413) or closed,
#    never served.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
port_a=$((25000 + RANDOM % 5000))
api=$((10000 + RANDOM % 10000))

python3 "$VIPD_SOURCE_DIR/examples/backends/backend.py" --http "$port_a:a" &
backends=$!
vipd_pid=; hold_pid=
trap 'kill $backends $vipd_pid $hold_pid 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port_a/" && break; sleep 0.1; done
cat > "$TMP/apps.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [$port_a]}]}
JSON
"$vipd" --no-ipvs --apps "$TMP/apps.json" --audit "$TMP/audit.log" --api "127.0.0.1:$api" \
  --run-for 90 2>"$TMP/vipd.err" &
vipd_pid=$!
base="http://127.0.0.1:$api"
for _ in $(seq 50); do curl -s -o /dev/null --max-time 1 "$base/v1/status" && break; sleep 0.1; done
metric() { curl -s --max-time 5 "$base/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
checks_before=$(metric 'vipd_checks_total{kind="http"}'); t_before=$(date +%s)

python3 "$VIPD_SOURCE_DIR/tests/tools/slowloris.py" "$api" "$TMP" --greeting "$(printf 'GET /v1/status HTTP/1.1\r\nHost: x\r\n' | od -An -tx1 | tr -d ' \n')" \
  --byte 58 --every 1 --sources 8 --then big-headers &
hold_pid=$!
for _ in $(seq 50); do [ -e "$TMP/held" ] && break; sleep 0.1; done
start=$(date +%s.%N)
answered=
for _ in $(seq 60); do
  if out=$(curl -s --max-time 1 "$base/v1/status") && [ -n "$out" ]; then
    answered=$(date +%s.%N); break
  fi
  sleep 0.2
done
if [ -z "$answered" ]; then
  fail "no new client was answered during the slowloris"
else
  waited=$(python3 -c "print(round($answered - $start, 1))")
  python3 -c "import sys; sys.exit(0 if $waited <= 12 else 1)" ||
    fail "a new client waited ${waited}s for /v1/status (deadline 10 s)"
fi
for _ in $(seq 300); do [ -e "$TMP/done" ] && break; sleep 0.1; done
[ -e "$TMP/done" ] || fail "the hostile client never finished"

# Every trickling connection was closed near its deadline, none stayed open.
expect_eq "$(grep -c open "$TMP/trickle")" 0 "trickling connections still open after 16 s"
late=$(awk '$1 != "open" && $1 > 12.5' "$TMP/trickle" | wc -l)
expect_eq "$late" 0 "trickling connections closed later than 12.5 s"
expect_eq "$(wc -l < "$TMP/trickle")" 64 "trickling connections recorded"
open=$(tr -cd o < "$TMP/peer" | wc -c)
python3 -c "import sys; sys.exit(0 if $open <= 8 else 1)" ||
  fail "connections from one address kept open: $open (limit 8)"
case "$(cat "$TMP/big")" in
  "HTTP/1.1 431"* | "HTTP/1.1 413"* | closed) ;;
  *) fail "64 KiB of headers: expected 431, 413 or a close, got [$(cat "$TMP/big")]" ;;
esac

# The checks ran on schedule all along: one a second.
checks_after=$(metric 'vipd_checks_total{kind="http"}'); t_after=$(date +%s)
ran=$((checks_after - checks_before)); want=$((t_after - t_before - 2))
python3 -c "import sys; sys.exit(0 if $ran >= $want and $want >= 9 else 1)" ||
  fail "checks during the slowloris: $ran in $((t_after - t_before)) s (expected one a second)"
lateness=$(metric vipd_check_timer_lateness_max_seconds)
python3 -c "import sys; sys.exit(0 if $lateness < 0.5 else 1)" ||
  fail "check timers up to ${lateness}s late during the slowloris"
kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
finish
