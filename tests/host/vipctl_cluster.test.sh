#!/usr/bin/env bash
# vipctl reads the cluster's view from etcd (issue 9 item 8): a real etcd on
# loopback and two real vipd nodes (a, b; --no-ipvs) sharing one app source,
# each task a real HTTP server on its own loopback address. vipctl cluster,
# with node a's config (its first endpoint dead: failover), lists both nodes
# and every VIP with every node's backends and their health; a backend made
# to fail shows unhealthy and its VIP stands out (exit 1); --json is checked
# by python; a malformed key is the daemon's located warning and the rest is
# printed; vipctl vips takes named VIPs' addresses from etcd's records; etcd
# down is exit 69 and one line.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
vipctl="$VIPD_BUILD_DIR/vipctl"
command -v etcd >/dev/null || { echo "SKIP: no etcd (etcd-server)"; exit 0; }
command -v etcdctl >/dev/null || { echo "SKIP: no etcdctl (etcd-client)"; exit 0; }

. "$VIPD_SOURCE_DIR/tests/host/etcd_lib.sh"

cport=$(free_port); pport=$(free_port); bport=$(free_port)
E="http://127.0.0.1:$cport"
declare -A pid
trap etcd_lib_cleanup EXIT
ctl() { ETCDCTL_API=3 etcdctl --endpoints "$E" "$@"; }

etcd_run t "$TMP/etcd" "$E" "$pport" "$TMP/etcd.log"
pid[etcd]=$etcd_last_pid
etcd_await "$TMP/etcd.log" ctl

for a in 127.0.0.11 127.0.0.12 127.0.0.21; do
  python3 "$VIPD_SOURCE_DIR/examples/backends/backend.py" --bind "$a" --http "$bport:$a" >/dev/null 2>&1 &
  pid[be$a]=$!
done
for a in 127.0.0.11 127.0.0.12 127.0.0.21; do
  for _ in $(seq 50); do curl -s -o /dev/null "http://$a:$bport/" && break; sleep 0.1; done
done

# /web has a task on a and one on b; /solo's only task runs on a.
mkdir -p "$TMP/apps"
check='"healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0, "intervalSeconds": 1,
   "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0, "maxConsecutiveFailures": 1}]'
cat > "$TMP/apps/apps.json" <<JSON
[{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}], $check,
  "tasks": [{"id": "web.a", "host": "127.0.0.11", "ports": [$bport]},
            {"id": "web.b", "host": "127.0.0.21", "ports": [$bport]}]},
 {"id": "/solo", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/solo:80"}}], $check,
  "tasks": [{"id": "solo.a", "host": "127.0.0.12", "ports": [$bport]}]}]
JSON
for n in a b; do
  [ $n = a ] && hosts='"127.0.0.11", "127.0.0.12"' || hosts='"127.0.0.21"'
  cat > "$TMP/$n.json" <<JSON
{"lb": {"drain_seconds": 0, "resync_seconds": 0},
 "cluster": {"hosts": [$hosts], "endpoints": ["http://127.0.0.1:1", "$E"], "lease_ttl": 5}}
JSON
  "$vipd" -c "$TMP/$n.json" --no-ipvs --apps "$TMP/apps" --audit "$TMP/$n.audit" --node $n \
    --run-for 300 2>>"$TMP/$n.err" &
  pid[$n]=$!
done

# Waits until vipctl cluster --json satisfies a python condition on doc.
wait_json() { # seconds condition what
  for _ in $(seq $(($1 * 5))); do
    "$vipctl" -c "$TMP/a.json" cluster --json 2>/dev/null | python3 -c "
import json, sys
doc = json.load(sys.stdin)
be = {(v['vip'], b['node'], b['task']): b for v in doc['vips'] for b in v['backends']}
live = {n['node'] for n in doc['nodes'] if n['live']}
sys.exit(0 if ($2) else 1)" 2>/dev/null && return 0
    sleep 0.2
  done
  fail "vipctl cluster --json never showed $3"
}
wait_json 20 "live == {'a', 'b'} and len(be) == 3 and all(b['health'] == 'healthy' for b in be.values()) and len(doc['names']) == 2" \
  "both nodes live and 3 healthy backends"

addr() { ctl get --print-value-only "/vipd/v1/vips/%2F$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["ipv4"])'; }
web=$(addr web); solo=$(addr solo)
out=$("$vipctl" -c "$TMP/a.json" cluster 2>"$TMP/err"); rc=$?
expect_eq "$rc" 0 "vipctl cluster exit code, all healthy"
expect_eq "$(cat "$TMP/err")" "" "vipctl cluster: nothing on stderr"
expect_contains "$out" "etcd $E, prefix /vipd/v1/, revision "
expect_eq "$(grep -E '^(NODE|a|b) ' <<<"$out" | awk '{print $1, $2, $4, $5}')" "NODE LIVE BACKENDS HEALTHY
a yes 2 2
b yes 1 1" "the nodes"
expect_eq "$(grep -A4 "^/web:80 " <<<"$out" | awk '{$1 = $1; print}')" "/web:80 TCP $web:80 [$(ctl get --print-value-only /vipd/v1/vips/%2Fweb | python3 -c 'import json, sys; print(json.load(sys.stdin)["ipv6"])')]:80: 2/2 healthy
NODE BACKEND HEALTH WEIGHT APP TASK
a 127.0.0.11:$bport healthy 1 /web web.a
b 127.0.0.21:$bport healthy 1 /web web.b" "/web with a backend from each node"
expect_contains "$out" "/solo:80 TCP $solo:80 "
expect_contains "$out" "2 nodes (2 live), 2 VIPs, 3 backends, VIPs with no healthy backend: 0"

# Read in pages of 2 keys, as the daemon pages its read: the same report, in
# more than one Range call (etcd's own count; the nodes make none meanwhile:
# they watch).
ranges() { curl -s "$E/metrics" | awk '/^grpc_server_handled_total/ && /grpc_method="Range"/ && /grpc_code="OK"/ { n += $2 } END { print n + 0 }'; }
ranges_before=$(ranges)
paged=$(VIPD_CLUSTER_READ_PAGE_KEYS=2 "$vipctl" -c "$TMP/a.json" cluster 2>"$TMP/err"); rc=$?
ranges_after=$(ranges)
expect_eq "$rc:$(cat "$TMP/err")" "0:" "vipctl cluster in pages of 2 keys: exit code, stderr"
expect_eq "$(grep -v '^etcd ' <<<"$paged")" "$(grep -v '^etcd ' <<<"$out")" "vipctl cluster in pages of 2 keys: the same report"
expect_eq "$((ranges_after - ranges_before >= 4))" 1 "vipctl cluster in pages: Range calls $ranges_before -> $ranges_after"

# /solo's only backend fails on a: unhealthy in etcd, its VIP stands out.
kill "${pid[be127.0.0.12]}"
wait_json 20 "be[('/solo:80', 'a', 'solo.a')]['health'] == 'unhealthy'" "solo.a unhealthy"
out=$("$vipctl" -c "$TMP/a.json" cluster 2>/dev/null); rc=$?
expect_eq "$rc" 1 "vipctl cluster exit code, a VIP without a healthy backend"
echo "$out" > "$TMP/cluster-dark.txt" # kept with KEEP_TMP=1, as the README shows it
expect_contains "$out" "/solo:80 TCP $solo:80 [fd01:c:"
expect_contains "$out" ": 0/1 healthy  << NO HEALTHY BACKEND"
expect_eq "$(grep -A2 "^/solo:80 " <<<"$out" | tail -1 | awk '{$1 = $1; print}')" \
  "a 127.0.0.12:$bport unhealthy 1 /solo solo.a" "solo.a's row"
expect_contains "$out" "2 nodes (2 live), 2 VIPs, 3 backends, VIPs with no healthy backend: 1"

# --json for scripts.
"$vipctl" -c "$TMP/a.json" cluster --json > "$TMP/doc.json"; rc=$?
expect_eq "$rc" 1 "vipctl cluster --json exit code"
check=$(python3 - "$TMP/doc.json" "$web" "$solo" "$bport" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
web, solo, port = sys.argv[2], sys.argv[3], int(sys.argv[4])
assert doc["schema"] == 1 and doc["ok"] is False and doc["prefix"] == "/vipd/v1/", doc
assert [(n["node"], n["live"], n["backends"], n["healthy"]) for n in doc["nodes"]] == \
    [("a", True, 2, 1), ("b", True, 1, 1)], doc["nodes"]
assert all(len(n["lease"]) > 0 for n in doc["nodes"])
v = {x["vip"]: x for x in doc["vips"]}
assert v["/web:80"]["ipv4"] == web and v["/web:80"]["healthy"] == 2, v["/web:80"]
assert [(b["node"], b["address"], b["port"], b["health"], b["app"], b["task"])
        for b in v["/web:80"]["backends"]] == \
    [("a", "127.0.0.11", port, "healthy", "/web", "web.a"),
     ("b", "127.0.0.21", port, "healthy", "/web", "web.b")], v["/web:80"]
assert v["/solo:80"]["ipv4"] == solo and v["/solo:80"]["healthy"] == 0, v["/solo:80"]
assert v["/solo:80"]["backends"][0]["health"] == "unhealthy"
assert {n["name"]: n["ipv4"] for n in doc["names"]} == {"/web": web, "/solo": solo}
print("ok")
PY
)
expect_eq "$check" ok "vipctl cluster --json document"

# A malformed key: the daemon's located warning, skipped; the rest printed.
bad='/vipd/v1/backends/x/tcp:%2Fweb:80/10.9.9.9:80'
ctl put "$bad" '{"vip":"/web:80","protocol":"tcp","address":"10.9.9.9","port":80,"weight":70000,"health":"healthy","app":"/web","task":"t","node":"x"}' >/dev/null
out=$("$vipctl" -c "$TMP/a.json" cluster 2>"$TMP/err")
expect_eq "$(cat "$TMP/err")" "vipctl: warning: cluster: skipped: $bad: /weight: expected an integer 0-65535, got 70000" \
  "malformed key warning"
expect_contains "$out" "/web:80 TCP $web:80 "
expect_contains "$out" "2 nodes (2 live), 2 VIPs, 3 backends, VIPs with no healthy backend: 1"
expect_contains "$(cat "$TMP/b.err")" "$bad: /weight: expected an integer 0-65535, got 70000"
ctl del "$bad" >/dev/null

# vipctl vips: named addresses from etcd's records; a name with no record
# shows the hash's preference, marked.
ctl put /vipd/v1/vips/%2Fpre '{"ipv4":"11.1.2.3","ipv6":"fd01:c::123"}' >/dev/null
cat > "$TMP/vips.json" <<JSON
[{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}]},
 {"id": "/pre", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/pre:80"}}]},
 {"id": "/fresh", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/fresh:80"}}]}]
JSON
out=$("$vipctl" -c "$TMP/a.json" vips --no-checks "$TMP/vips.json" 2>"$TMP/err"); rc=$?
expect_eq "$rc" 0 "vipctl vips in a cluster"
expect_contains "$out" "/web:80 TCP $web:80"$'\n'
expect_contains "$out" "/pre:80 TCP 11.1.2.3:80"$'\n'
expect_contains "$out" "/fresh:80 TCP "
expect_contains "$(grep '^/fresh:80' <<<"$out")" " (not yet assigned: the name's preferred address)"
out=$("$vipctl" vips --no-checks --etcd "$E" "$TMP/vips.json" 2>/dev/null)
expect_contains "$out" "/pre:80 TCP 11.1.2.3:80"$'\n'

# etcd's auth: the config's user is how vipctl reads; a wrong password is
# one line naming the setting to fix.
ctl user add root:s3cret >/dev/null 2>&1 && ctl auth enable >/dev/null 2>&1 || fail "enable etcd auth"
for pw in s3cret wrong; do
  cat > "$TMP/auth-$pw.json" <<JSON
{"cluster": {"endpoints": ["$E"], "auth": {"user": "root", "password": "$pw"}}}
JSON
done
out=$("$vipctl" -c "$TMP/auth-s3cret.json" cluster 2>"$TMP/err")
expect_contains "$out" "/web:80 TCP $web:80 "
expect_eq "$(cat "$TMP/err")" "" "vipctl cluster with etcd's auth: nothing on stderr"
"$vipctl" -c "$TMP/auth-wrong.json" cluster >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 69 "vipctl cluster exit code, wrong password"
expect_eq "$(wc -l < "$TMP/err")" 1 "wrong password: one line on stderr"
expect_contains "$(cat "$TMP/err")" "vipctl: cannot read etcd ($E): etcd $E /v3/auth/authenticate: etcd error 3: "
expect_contains "$(cat "$TMP/err")" '; fix: check "cluster.auth" (etcdctl user get shows the user)'
expect_not_contains "$(cat "$TMP/err")" "wrong"

# etcd down: one line, exit 69, for both commands.
kill "${pid[etcd]}"; wait "${pid[etcd]}" 2>/dev/null
"$vipctl" -c "$TMP/a.json" cluster >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "$rc" 69 "vipctl cluster exit code, etcd down"
expect_eq "$(wc -l < "$TMP/err")" 1 "one line on stderr"
expect_contains "$(cat "$TMP/err")" "vipctl: cannot read etcd (http://127.0.0.1:1,$E): etcd $E /v3/kv/range: "
expect_contains "$(cat "$TMP/err")" "; fix: start etcd there, or correct cluster.endpoints"
expect_eq "$(cat "$TMP/out")" "" "nothing on stdout, etcd down"
"$vipctl" -c "$TMP/a.json" vips --no-checks "$TMP/vips.json" >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 69 "vipctl vips exit code, etcd down"
expect_eq "$(wc -l < "$TMP/err")" 1 "vipctl vips: one line on stderr"
kill -0 "${pid[a]}" 2>/dev/null || fail "vipd a died"

# No etcd named: bad config (2), with what to do; an operand: bad usage (64).
echo '{}' > "$TMP/single.json"
"$vipctl" -c "$TMP/single.json" cluster >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "vipctl cluster without etcd exit code"
expect_eq "$(cat "$TMP/err")" 'vipctl cluster: no etcd to read: set "cluster.endpoints" in vipd'"'"'s config (-c) or give --etcd URL' \
  "vipctl cluster without etcd message"
"$vipctl" -c "$TMP/single.json" cluster extra >/dev/null 2>&1
expect_eq "$?" 64 "vipctl cluster with an operand"
finish
