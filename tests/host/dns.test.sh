#!/usr/bin/env bash
# vipd's DNS responder on a loopback high port (tests/tools/dns_tool, the
# same server code the daemon runs), with dig as the witness: A, AAAA and SRV
# for named VIPs in DC/OS's zones, NXDOMAIN with the SOA, REFUSED outside the
# zones, TCP, truncation over UDP and the TCP retry, and garbage that must
# neither crash it nor stop the next query from being answered.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
tool="$VIPD_BUILD_DIR/tests/dns_tool"
command -v dig >/dev/null || { echo "FAIL: no dig (bind9-dnsutils): scripts/setup.sh installs it"; exit 1; }
# below the ephemeral range (32768-60999): a busy host can hold any port there in TIME-WAIT
port=$((10000 + RANDOM % 10000))

# /web and /prod/api, and 37 apps whose ids all become the label
# "truncated" (DC/OS drops '/'): one name with 37 addresses, too long for
# a 512-byte UDP answer.
python3 - "$TMP/apps.json" <<'PY'
import itertools, json, sys
apps = [
  {"id": "/web", "portDefinitions": [{"port": 0, "name": "http", "labels": {"VIP_0": "/web:80"}}]},
  {"id": "/prod/api", "portDefinitions": [{"port": 0, "name": "api", "protocol": "udp,tcp",
                                           "labels": {"VIP_0": "/prod/api:8080"}}]},
]
word = "truncated"
ids = ["/" + word]
for k in (1, 2):
    for cuts in itertools.combinations(range(1, len(word)), k):
        parts, last = [], 0
        for c in cuts:
            parts.append(word[last:c]); last = c
        parts.append(word[last:])
        ids.append("/" + "/".join(parts))
for i in ids:
    apps.append({"id": i, "portDefinitions": [{"port": 0, "labels": {"VIP_0": i + ":80"}}]})
json.dump({"apps": apps}, open(sys.argv[1], "w"))
PY

"$tool" --listen "127.0.0.1:$port" --apps "$TMP/apps.json" --v6 --run-for 120 >"$TMP/records" 2>"$TMP/tool.err" &
tool_pid=$!
trap 'kill $tool_pid 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q '^ready$' "$TMP/records" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready$' "$TMP/records" || { cat "$TMP/tool.err" >&2; fail "dns_tool never got ready"; finish; }

q() { dig @127.0.0.1 -p "$port" +time=2 +tries=1 "$@"; }
web=web.marathon.l4lb.thisdcos.directory
web4=$(awk -v n="$web" '$1 == "A" && $2 == n {print $3}' "$TMP/records")
web6=$(awk -v n="$web" '$1 == "AAAA" && $2 == n {print $3}' "$TMP/records")
case "$web4" in 11.*) ;; *) fail "web's IPv4 address [$web4] is not in 11.0.0.0/8" ;; esac
case "$web6" in fd01:c::*) ;; *) fail "web's IPv6 address [$web6] is not in fd01:c::/64" ;; esac

expect_eq "$(q +short "$web" A)" "$web4" "A $web"
expect_eq "$(q +short "$web" AAAA)" "$web6" "AAAA $web"
expect_eq "$(q +short web.marathon.dclb.thisdcos.global A)" "$web4" "A in the dclb global zone"
expect_eq "$(q +short WEB.Marathon.L4LB.thisdcos.directory A)" "$web4" "A, mixed case"
expect_eq "$(q +short "_http._tcp.$web" SRV)" "0 1 80 $web." "SRV _http._tcp"
expect_eq "$(q +short _api._udp.prodapi.marathon.l4lb.thisdcos.directory SRV)" \
  "0 1 8080 prodapi.marathon.l4lb.thisdcos.directory." "SRV _api._udp for /prod/api"
out=$(q "$web" A)
expect_contains "$out" "status: NOERROR"
expect_contains "$out" "flags: qr aa rd;"
expect_contains "$(echo "$out" | tr -s ' \t' ' ')" "$web. 5 IN A $web4"

out=$(q nope.marathon.l4lb.thisdcos.directory A)
expect_contains "$out" "status: NXDOMAIN"
expect_contains "$out" "AUTHORITY: 1"
expect_contains "$(echo "$out" | tr -s ' \t' ' ')" "l4lb.thisdcos.directory. 5 IN SOA ns.l4lb.thisdcos.directory. hostmaster.l4lb.thisdcos.directory."
out=$(q www.example.com A)
expect_contains "$out" "status: REFUSED"

out=$(q +tcp "$web" A)
expect_contains "$out" "status: NOERROR"
expect_contains "$out" "(TCP)"
expect_contains "$out" "$web4"

# 37 addresses: over UDP without EDNS the answer is cut with TC ...
out=$(q +noedns +ignore truncated.marathon.l4lb.thisdcos.directory A)
expect_contains "$out" "flags: qr aa tc rd;"
expect_contains "$out" "ANSWER: 0"
# ... and dig's own retry over TCP gets all of them
out=$(q +noedns truncated.marathon.l4lb.thisdcos.directory A)
expect_contains "$out" "ANSWER: 37"
expect_contains "$out" "Truncated, retrying in TCP mode."
expect_eq "$(q +short +tcp truncated.marathon.l4lb.thisdcos.directory A | wc -l)" 37 "addresses over TCP"

# Garbage over UDP and TCP: no crash, and the next query is answered.
python3 - "$port" <<'PY'
import os, socket, sys, struct
port = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for pkt in [b"", b"\x01", b"hello, garbage" * 20, os.urandom(512), os.urandom(12),
            b"\x12\x34\x81\x80" + b"\x00" * 8,                       # a response
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f", # name cut short
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"]:
    u.sendto(pkt, ("127.0.0.1", port))
t = socket.create_connection(("127.0.0.1", port))
t.sendall(struct.pack(">H", 3) + b"abc" + os.urandom(100))
t.close()
t = socket.create_connection(("127.0.0.1", port))
t.sendall(b"\xff")          # half a length prefix, then gone
t.close()
PY
printf 'not dns at all\n' | nc -u -w1 127.0.0.1 "$port" >/dev/null 2>&1 || true
kill -0 "$tool_pid" 2>/dev/null || fail "the responder died on garbage"
expect_eq "$(q +short "$web" A)" "$web4" "A after garbage"
expect_eq "$(q +short +tcp "$web" A)" "$web4" "A over TCP after garbage"

kill "$tool_pid"
wait "$tool_pid"
expect_eq "$?" 0 "dns_tool exit status"
finish
