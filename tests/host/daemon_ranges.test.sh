#!/usr/bin/env bash
# Configured named-VIP ranges reach the daemon's table: with
# lb.named_vip_range_v4/_v6 set, the planned services of a named VIP
# (--no-ipvs: planned, not applied) have addresses inside those ranges, one per
# backend family; a malformed range is a located config error and exit 2.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"

# Backends on loopback, ports below the ephemeral range; the app has no
# checks, so nothing connects to them.
mkdir -p "$TMP/apps"
cat > "$TMP/apps/web.json" <<'JSON'
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [10001]},
           {"id": "web.b", "host": "::1", "ports": [10002]}]}
JSON
# Ranges of 16 addresses: the defaults (11.x, fd01:c::) cannot land inside.
cat > "$TMP/vipd.json" <<'JSON'
{"lb": {"named_vip_range_v4": "10.200.0.16-10.200.0.31",
        "named_vip_range_v6": "fd02:0:0:7::10-fd02:0:0:7::1f"}}
JSON

"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 3 -c "$TMP/vipd.json" \
  2>"$TMP/vipd.err"
expect_eq "$?" 0 "vipd exit code"

planned() { # pattern of the address inside "TCP ADDR:80"
  grep '"event":"ipvs"' "$TMP/audit.log" | grep '"op":"add_service"' |
    grep -o "\"service\":\"TCP $1:80\"" | head -1
}
v4=$(planned '[0-9.]*' | sed 's/.*TCP \(.*\):80"/\1/')
v6=$(planned '\[[0-9a-f:]*\]' | sed 's/.*TCP \[\(.*\)\]:80"/\1/')
case "$v4" in
  10.200.0.1[6-9] | 10.200.0.2[0-9] | 10.200.0.3[01]) ;;
  *) fail "IPv4 service of /web: expected an address in 10.200.0.16-10.200.0.31, got [$v4]" ;;
esac
case "$v6" in
  fd02:0:0:7::1[0-9a-f]) ;;
  *) fail "IPv6 service of /web: expected an address in fd02:0:0:7::10-fd02:0:0:7::1f, got [$v6]" ;;
esac
expect_eq "$(grep -c '"op":"add_service"' "$TMP/audit.log")" 2 "one service per backend family"
expect_contains "$(cat "$TMP/audit.log")" "\"text\":\"add dest TCP $v4:80 -> 127.0.0.1:10001 weight 1 masq\""
expect_contains "$(cat "$TMP/audit.log")" "\"text\":\"add dest TCP [$v6]:80 -> [::1]:10002 weight 1 masq\""

# The DNS responder names the same addresses as the table.
dns_port=$((12000 + RANDOM % 4000))
cat > "$TMP/vipd-dns.json" <<JSON
{"lb": {"named_vip_range_v4": "10.200.0.16-10.200.0.31",
        "named_vip_range_v6": "fd02:0:0:7::10-fd02:0:0:7::1f"},
 "dns": {"listen": "127.0.0.1:$dns_port"}}
JSON
"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit2.log" --run-for 8 -c "$TMP/vipd-dns.json" \
  2>"$TMP/vipd2.err" &
vipd_pid=$!
# dig +short prints its own errors ("connection refused" while the daemon
# starts) on stdout: wait for an answer that is an address.
answer=""
for _ in $(seq 100); do
  answer=$(dig +short +time=1 +tries=1 -p "$dns_port" @127.0.0.1 web.marathon.l4lb.thisdcos.directory A 2>/dev/null)
  [[ $answer =~ ^[0-9.]+$ ]] && break
  sleep 0.1
done
expect_eq "$answer" "$v4" "A record of web.marathon.l4lb.thisdcos.directory with custom ranges"
answer=$(dig +short +time=1 +tries=1 -p "$dns_port" @127.0.0.1 web.marathon.l4lb.thisdcos.directory AAAA 2>/dev/null)
expect_eq "$answer" "$v6" "AAAA record with custom ranges"
kill "$vipd_pid" 2>/dev/null; wait "$vipd_pid" 2>/dev/null

# Bad ranges: each located, all reported, exit 2.
cat > "$TMP/bad.json" <<'JSON'
{"lb": {"named_vip_range_v4": "11.0.0.9-11.0.0.1", "named_vip_range_v6": "10.0.0.0-10.0.0.9"}}
JSON
"$vipd" -c "$TMP/bad.json" --check-config >/dev/null 2>"$TMP/err"
expect_eq "$?" 2 "bad ranges exit code"
expect_eq "$(cat "$TMP/err")" "vipd: error: $TMP/bad.json: /lb/named_vip_range_v4: named VIP range \"11.0.0.9-11.0.0.1\": the first address must not be after the last
vipd: error: $TMP/bad.json: /lb/named_vip_range_v6: named VIP range \"10.0.0.0-10.0.0.9\": expected FIRST-LAST, two IPv6 addresses" "bad range messages"

echo '{"lb": {"named_vip_range_v6": "fd01:c::-fd01:d::1", "named_vip_range_v4": 11}}' >"$TMP/bad2.json"
"$vipd" -c "$TMP/bad2.json" --check-config >/dev/null 2>"$TMP/err"
expect_eq "$?" 2 "bad ranges exit code (2)"
expect_contains "$(cat "$TMP/err")" "$TMP/bad2.json: /lb/named_vip_range_v4: expected a non-empty string"
expect_contains "$(cat "$TMP/err")" "$TMP/bad2.json: /lb/named_vip_range_v6: named VIP range \"fd01:c::-fd01:d::1\": the first address must not be after the last, and both must be in one /64"
finish
