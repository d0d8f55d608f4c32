#!/usr/bin/env bash
# The daemon's responder (--no-ipvs: the planned table counts as programmed):
# a named VIP resolves once its service is planned, with the configured
# zones, framework and TTL; a VIP removed from the definitions stops
# resolving after the reload; a bad dns setting is a located config error.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
command -v dig >/dev/null || { echo "FAIL: no dig (bind9-dnsutils): scripts/setup.sh installs it"; exit 1; }
# below the ephemeral range (32768-60999): a busy host can hold any port there in TIME-WAIT
port=$((10000 + RANDOM % 10000))
mkdir -p "$TMP/apps"
cat > "$TMP/apps/web.json" <<'JSON'
{"id": "/prod/web", "portDefinitions": [{"port": 0, "name": "http", "labels": {"VIP_0": "/prod/web:80"}}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [31001]}]}
JSON
cat > "$TMP/apps/db.json" <<'JSON'
{"id": "/db", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/db:5432"}}]}
JSON
cat > "$TMP/vipd.json" <<JSON
{"dns": {"listen": "127.0.0.1:$port", "zones": ["l4lb.thisdcos.directory", "vips.test"],
         "framework": "mara", "ttl": 7},
 "reload_seconds": 1}
JSON

"$vipd" -c "$TMP/vipd.json" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 60 2>"$TMP/vipd.err" &
vipd_pid=$!
trap 'kill $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT
q() { dig @127.0.0.1 -p "$port" +time=1 +tries=1 "$@"; }
for _ in $(seq 100); do q +short prodweb.mara.vips.test A 2>/dev/null | grep -q '^11\.' && break; sleep 0.1; done

web=$(q +short prodweb.mara.vips.test A)
case "$web" in 11.*) ;; *) fail "prodweb.mara.vips.test: expected an 11.x address, got [$web]" ;; esac
planned=$(grep '"op":"add_service"' "$TMP/audit.log" | grep -o '"service":"TCP [0-9.]*:80"' | head -1)
expect_eq "$planned" "\"service\":\"TCP $web:80\"" "the answer is the planned service's address"
expect_eq "$(q +short prodweb.mara.l4lb.thisdcos.directory A)" "$web" "second zone"
expect_contains "$(q prodweb.mara.vips.test A | tr -s ' \t' ' ')" "prodweb.mara.vips.test. 7 IN A $web"
expect_eq "$(q +short _http._tcp.prodweb.mara.vips.test SRV)" "0 1 80 prodweb.mara.vips.test." "SRV"
expect_contains "$(q web.marathon.l4lb.thisdcos.global A)" "status: REFUSED"
q +short db.mara.vips.test A | grep -q '^11\.' || fail "db does not resolve"

# /db removed: its name goes at the next reload.
rm "$TMP/apps/db.json"
for _ in $(seq 100); do q db.mara.vips.test A | grep -q 'status: NXDOMAIN' && break; sleep 0.1; done
expect_contains "$(q db.mara.vips.test A)" "status: NXDOMAIN"
expect_eq "$(q +short prodweb.mara.vips.test A)" "$web" "web still resolves"
kill -0 "$vipd_pid" 2>/dev/null || fail "vipd died"

echo '{"dns": {"listen": "localhost:53", "zones": ["ok.test", "bad..zone"]}}' > "$TMP/bad.json"
out=$("$vipd" -c "$TMP/bad.json" --check-config 2>&1)
expect_contains "$out" "bad.json: /dns/listen: expected ADDR:PORT (IPv6 in brackets)"
expect_contains "$out" "bad.json: /dns/zones/1: zone \"bad..zone\": expected dot-separated labels"
finish
