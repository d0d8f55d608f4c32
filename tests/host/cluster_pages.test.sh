#!/usr/bin/env bash
# A vipd reading a cluster's prefix in pages (issue 9, scale), against a
# real etcd on loopback: 4 simulated nodes x 400 backends over 20 named VIPs
# (bench/cluster/publisher.py) read 3 keys a page (VIPD_CLUSTER_READ_PAGE_KEYS,
# the hidden test setting) while the publisher flips backends' health and
# etcd compacts the history under the read: the read starts again, and the
# node ends with exactly the backends etcd holds, then follows the watch.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
publisher="$VIPD_SOURCE_DIR/bench/cluster/publisher.py"
. "$VIPD_SOURCE_DIR/tests/host/etcd_lib.sh"

cport=$(free_port); pport=$(free_port)
E="http://127.0.0.1:$cport"
declare -A pid
cleanup() {
  exec 4>&- 2>/dev/null
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT
ctl() { ETCDCTL_API=3 etcdctl --endpoints "$E" "$@"; }
etcd_run t "$TMP/etcd" "$E" "$pport" "$TMP/etcd.log"
pid[etcd]=$etcd_last_pid
etcd_await "$TMP/etcd.log" ctl

# Range calls etcd answered with this gRPC code (the gateway's calls included).
ranges() { # code
  curl -s "$E/metrics" | awk -v c="grpc_code=\"$1\"" \
    '/^grpc_server_handled_total/ && /grpc_method="Range"/ && index($0, c) { n += $2 } END { print n + 0 }'
}
# The node's view, from its audit log's cluster_backend lines, against
# etcd's backends/ keys: "node task health" lines, sorted; the diff on
# stdout, nothing when they agree.
view_diff() {
  ctl get --prefix /vipd/v1/backends/ -w json >"$TMP/etcd.json" || { echo "etcdctl get failed"; return; }
  python3 - "$TMP/etcd.json" "$TMP/x.audit" <<'PY'
import base64, json, sys
kvs = json.load(open(sys.argv[1])).get("kvs", [])
held = set()
for kv in kvs:
    v = json.loads(base64.b64decode(kv["value"]))
    held.add((v["node"], v["task"], v["health"]))
seen = {}
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e.get("event") != "cluster_backend":
        continue
    k = (e["node"], e["task"])
    if e["change"] in ("appeared", "changed"):
        seen[k] = e["health"]
    else:
        seen.pop(k, None)
view = {(n, t, h) for (n, t), h in seen.items()}
for x in sorted(held - view):
    print("only in etcd:", *x)
for x in sorted(view - held):
    print("only in the node's view:", *x)
PY
}

mkfifo "$TMP/cmd"
python3 "$publisher" publish --endpoint "$E" --nodes 4 --tasks 400 --vips 20 --ttl 60 --batch 100 \
  --status "$TMP/status" <"$TMP/cmd" 2>"$TMP/publisher.err" &
pid[publisher]=$!
exec 4>"$TMP/cmd"
for _ in $(seq 300); do grep -q '^loaded' "$TMP/status" 2>/dev/null && break; sleep 0.1; done
expect_contains "$(cat "$TMP/status")" "loaded 1624 " "the simulated cluster loaded (1600 backends, 4 live keys, 20 VIPs)"
expect_eq "$(ctl get --prefix /vipd/v1/ --keys-only | grep -c .)" 1624 "keys in etcd"

ok_before=$(ranges OK)
compacted_before=$(ranges OutOfRange)
echo "flip 400 0.005 $TMP/flips" >&4
echo '[]' >"$TMP/none.json"
cat >"$TMP/x.json" <<JSON
{"cluster": {"hosts": ["127.0.0.99"], "endpoints": ["$E"], "lease_ttl": 10}}
JSON
VIPD_CLUSTER_READ_PAGE_KEYS=3 "$vipd" -c "$TMP/x.json" --no-ipvs --apps "$TMP/none.json" \
  --audit "$TMP/x.audit" --node x --run-for 300 2>"$TMP/x.err" &
pid[x]=$!
# The first page is in: the history the read is pinned to is compacted.
for _ in $(seq 200); do grep -q '"event":"cluster_backend"' "$TMP/x.audit" 2>/dev/null && break; sleep 0.05; done
rev=$(ctl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
ctl compact "$rev" >/dev/null || fail "etcdctl compact $rev"

for _ in $(seq 300); do grep -q '^done flip' "$TMP/status" && break; sleep 0.1; done
expect_contains "$(cat "$TMP/status")" "done flip" "the publisher's flips during the read"
for _ in $(seq 100); do [ -z "$(view_diff)" ] && break; sleep 0.2; done
expect_eq "$(view_diff)" "" "the node's view against etcd after a paged read under writes and a compaction"
expect_eq "$(( $(grep -c '"change":"appeared"' "$TMP/x.audit") >= 1600 ))" 1 \
  "every backend appeared in the node's audit log"
# The read was paged (at most 3 keys an answer: 1624 keys need 542 pages),
# a page met the compaction, and the node read again.
expect_eq "$(( $(ranges OK) - ok_before >= 542 ))" 1 "Range calls answered for the paged read"
expect_eq "$(( $(ranges OutOfRange) - compacted_before >= 1 ))" 1 "a page read at a compacted revision"
expect_contains "$(grep '"event":"cluster_etcd"' "$TMP/x.audit")" "required revision has been compacted" \
  "the compacted page, audited"
expect_eq "$(grep '"event":"cluster_etcd"' "$TMP/x.audit" | tail -1 | grep -o '"state":"[a-z]*"')" \
  '"state":"connected"' "the node connected again after the compacted page"
# The watch follows from the read's revision: more flips reach the view.
echo "flip 50 0.01 $TMP/flips" >&4
for _ in $(seq 300); do [ "$(grep -c '^done flip' "$TMP/status")" -ge 2 ] && break; sleep 0.1; done
for _ in $(seq 100); do [ -z "$(view_diff)" ] && break; sleep 0.2; done
expect_eq "$(view_diff)" "" "the node's view against etcd after more changes through the watch"
expect_eq "$(grep -c '"change":"expired"\|"change":"left"' "$TMP/x.audit")" 0 "records that left the view"

echo quit >&4
kill -TERM "${pid[x]}"; wait "${pid[x]}"; expect_eq "$?" 0 "the node's exit status"
grep -q "ERROR: AddressSanitizer\|runtime error" "$TMP/x.err" && fail "x: $(cat "$TMP/x.err")"
finish
