#!/usr/bin/env bash
# TCP DNS against clients that hold connections open (slowloris), on
# loopback through tests/tools/dns_tool with dig as the witness:
#  - 64 clients from 64 addresses send a length prefix, then one byte every
#    2 s: dig +tcp is still answered at once (the connection that waited
#    longest makes room), and each of them is closed about DNS_TCP_QUERY_S
#    (10 s) after it started, however the bytes trickle in;
#  - 20 connections from one address: only the newest 8 stay open, and dig
#    from that address is answered too.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
tool="$VIPD_BUILD_DIR/tests/dns_tool"
command -v dig >/dev/null || { echo "FAIL: no dig (bind9-dnsutils): scripts/setup.sh installs it"; exit 1; }
# below the ephemeral range (32768-60999): a busy host can hold any port there in TIME-WAIT
port=$((10000 + RANDOM % 10000))

cat >"$TMP/apps.json" <<'JSON'
{"apps": [{"id": "/web", "portDefinitions": [{"port": 0, "name": "http", "labels": {"VIP_0": "/web:80"}}]}]}
JSON
"$tool" --listen "127.0.0.1:$port" --apps "$TMP/apps.json" --run-for 120 >"$TMP/records" 2>"$TMP/tool.err" &
tool_pid=$!
held_pid=
trap 'kill $tool_pid $held_pid 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q '^ready$' "$TMP/records" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready$' "$TMP/records" || { cat "$TMP/tool.err" >&2; fail "dns_tool never got ready"; finish; }
web=web.marathon.l4lb.thisdcos.directory
web4=$(awk -v n="$web" '$1 == "A" && $2 == n {print $3}' "$TMP/records")

# Holds connections and reports, per phase, how long each lived (tests/tools/slowloris.py).
python3 "$VIPD_SOURCE_DIR/tests/tools/slowloris.py" "$port" "$TMP" --greeting 0040 --byte 78 --every 2 \
  --sources 64 --then hold &
held_pid=$!
for _ in $(seq 100); do [ -e "$TMP/held" ] && break; sleep 0.1; done
[ -e "$TMP/held" ] || { fail "the 64 connections were never held"; finish; }

start=$(date +%s%N)
out=$(dig @127.0.0.1 -p "$port" +tcp +time=2 +tries=1 "$web" A)
ms=$((($(date +%s%N) - start) / 1000000))
expect_contains "$out" "status: NOERROR"
expect_contains "$out" "(TCP)"
expect_contains "$out" "$web4"
[ "$ms" -lt 2000 ] || fail "dig +tcp took $ms ms while 64 connections were held"

for _ in $(seq 250); do [ -e "$TMP/capped" ] && break; sleep 0.1; done
[ -e "$TMP/capped" ] || { fail "the held connections never finished"; finish; }
out=$(dig @127.0.0.1 -p "$port" -b 127.0.0.66 +tcp +time=2 +tries=1 "$web" A)
expect_contains "$out" "status: NOERROR"
expect_contains "$out" "$web4"

# The one dig replaced went at once (the oldest, the first opened); the 63
# others at their deadline, 10 s after they began, bytes every 2 s or not.
lives=$(cat "$TMP/trickle")
expect_eq "$(echo "$lives" | grep -c open)" 0 "connections still open after 16 s of trickling"
expect_eq "$(echo "$lives" | head -1 | awk '{print ($1 < 5)}')" 1 "the oldest went when dig came (lived $(echo "$lives" | head -1) s)"
expect_eq "$(echo "$lives" | tail -n +2 | awk '$1 >= 9.5 && $1 <= 11.5' | wc -l)" 63 \
  "connections closed 9.5-11.5 s after they began (lives: $(echo $lives))"
# One address holds at most 8: each newer one replaced the oldest.
expect_eq "$(cat "$TMP/peer")" "ccccccccccccoooooooo" "20 connections from 127.0.0.66 (c: closed by vipd)"

wait "$held_pid"
kill -0 "$tool_pid" 2>/dev/null || fail "the responder died"
kill "$tool_pid"
wait "$tool_pid"
expect_eq "$?" 0 "dns_tool exit status"
finish
