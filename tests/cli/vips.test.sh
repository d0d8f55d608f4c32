#!/usr/bin/env bash
# vipctl vips on a fixture: names, FQDNs, addresses, protocols and backends
# with health and weight, checks run once against real loopback backends
# (one healthy, one answering 500), and --no-checks with definitions only.
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
expect_eq "$(echo "$out" | grep -A3 '^/prod/web:80')" "/prod/web:80 TCP $web
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
finish
