#!/usr/bin/env bash
# vipctl vips on a fixture: names, FQDNs, addresses, protocols and backends
# with health and weight, checks run once against real loopback backends
# (one healthy, one answering 500), and --no-checks with definitions only.
# Named VIPs show the addresses vipd would use: its recorded assignments in
# lb.state_file (read without its lock, never written), a name without a
# record marked with the address its hash prefers.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"
port_a=$((20000 + RANDOM % 10000)); port_b=$((port_a + 1))
python3 "$VIPD_SOURCE_DIR/examples/backends/backend.py" --http "$port_a:a" --http "$port_b:b:500" &
backends=$!
trap 'kill $backends 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port_a/" && break; sleep 0.1; done

cat > "$TMP/apps.json" <<JSON
{"apps": [
 {"id": "/prod/web", "portDefinitions": [{"port": 0, "name": "http", "labels": {"VIP_0": "/prod/web:80", "VIPD_WEIGHT": "3"}}],
  "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0}],
  "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [$port_a]},
            {"id": "web.b", "host": "127.0.0.1", "ports": [$port_b]}]},
 {"id": "/dns", "portDefinitions": [{"port": 0, "protocol": "udp,tcp", "labels": {"VIP_0": "10.0.0.53:53"}}],
  "tasks": [{"id": "dns.a", "host": "127.0.0.1", "ports": [5353]}]},
 {"id": "/public", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "8.8.4.4:80"}}]}
]}
JSON

out=$("$vipctl" vips "$TMP/apps.json" 2>"$TMP/err"); rc=$?
expect_eq "$rc" 0 "exit status"
web=$(echo "$out" | awk '$1 == "/prod/web:80" {print $3}')
case "$web" in 11.*:80) ;; *) fail "/prod/web address [$web] is not in 11.0.0.0/8" ;; esac
expect_eq "$(echo "$out" | grep -A3 '^/prod/web:80')" "/prod/web:80 TCP $web (not yet assigned: the name's preferred address)
  fqdn prodweb.marathon.l4lb.thisdcos.directory prodweb.marathon.l4lb.thisdcos.global prodweb.marathon.dclb.thisdcos.directory prodweb.marathon.dclb.thisdcos.global
  backend 127.0.0.1:$port_a healthy weight 3
  backend 127.0.0.1:$port_b unhealthy weight 0" "web with checks"
expect_eq "$(echo "$out" | grep -A1 '^10.0.0.53:53')" "10.0.0.53:53 TCP 10.0.0.53:53
  backend 127.0.0.1:5353 healthy weight 1
10.0.0.53:53 UDP 10.0.0.53:53
  backend 127.0.0.1:5353 healthy weight 1" "address VIP, both protocols"
expect_contains "$out" "8.8.4.4:80 TCP 8.8.4.4:80
  no backend"
expect_contains "$out" "4 VIP services, 4 backends, 3 healthy"
expect_contains "$(cat "$TMP/err")" "apps.json: /apps/2/portDefinitions/0/labels/VIP_0: warning: VIP \"8.8.4.4:80\": 8.8.4.4 is not a private address (RFC 1918)"

# the same address from the allocation, whatever else is defined
out2=$("$vipctl" vips --no-checks "$TMP/apps.json" 2>/dev/null)
expect_contains "$out2" "/prod/web:80 TCP $web"
expect_contains "$out2" "  backend 127.0.0.1:$port_b unchecked weight 3"
expect_contains "$out2" "4 VIP services, 4 backends (checks not run)"

"$vipctl" vips >/dev/null 2>&1
expect_eq "$?" 64 "usage"

# A recorded collision (as tests/host/vip_stable.test.sh makes vipd record
# it): /a came first and took its home X; B, with the same home and sorting
# before /a, came later and was recorded at X+1. The hash alone would give
# B X and move /a to X+1; vipctl shows the recorded addresses.
home() { # FNV-1a-32 of a name, mod the range's 8 addresses (include/vipd/vip.h)
  local s=$1 h=2166136261 i c
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(((h ^ c) * 16777619 & 0xffffffff))
  done
  echo $((h % 8))
}
ha=$(home /a); b=
for i in $(seq 0 200); do
  if [ "$(home "/$i")" = "$ha" ]; then b=/$i; break; fi
done
[ -n "$b" ] || fail "no name with /a's home"
x=10.201.0.$ha; xb=10.201.0.$(((ha + 1) % 8))
cat > "$TMP/vipd.json" <<JSON
{"lb": {"named_vip_range_v4": "10.201.0.0-10.201.0.7", "state_file": "$TMP/state.json"}}
JSON
cat > "$TMP/named.json" <<JSON
[{"id": "/a", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/a:80"}}]},
 {"id": "$b", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "$b:80"}}]},
 {"id": "/new", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/new:80"}}]}]
JSON
hash_only=$("$vipctl" -c "$TMP/vipd.json" vips --no-checks "$TMP/named.json" 2>&1)
expect_contains "$hash_only" "$b:80 TCP $x:80 (not yet assigned: the name's preferred address)"
expect_contains "$hash_only" "/a:80 TCP $xb:80 (not yet assigned: the name's preferred address)"
cat > "$TMP/state.json" <<JSON
{"version": 1, "owned": [],
 "vips": [{"name": "/a", "ipv4": "$x", "ipv6": "fd01:c::$ha"},
          {"name": "$b", "ipv4": "$xb", "ipv6": "fd01:c::9"}]}
JSON
sum=$(md5sum < "$TMP/state.json")
# vipd holds the state file's lock while it runs: vipctl reads without it.
out=$(flock "$TMP/state.json.lock" "$vipctl" -c "$TMP/vipd.json" vips --no-checks "$TMP/named.json" 2>&1)
expect_eq "$?" 0 "vips with a state file"
expect_eq "$(grep '^/a:80\|^/new:80\|^'"$b"':80' <<<"$out" | LC_ALL=C sort)" "$b:80 TCP $xb:80
/a:80 TCP $x:80
/new:80 TCP $(grep -o '^/new:80 TCP [0-9.]*:80' <<<"$hash_only" | cut -d' ' -f3) (not yet assigned: the name's preferred address)" "recorded addresses, not the hash's"
expect_eq "$(md5sum < "$TMP/state.json")" "$sum" "state file left as it was"
echo '{"version": 1, "vips": [{"name": "/a", "ipv4": 7}]}' > "$TMP/state.json"
out=$("$vipctl" -c "$TMP/vipd.json" vips --no-checks "$TMP/named.json" 2>&1); rc=$?
expect_eq "$rc" 2 "bad state file exit code"
expect_eq "$out" "vipctl: named VIPs' recorded addresses: $TMP/state.json: /vips/0/ipv4: expected an IPv4 address" "bad state file message"
finish
