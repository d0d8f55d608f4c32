#!/usr/bin/env bash
# vipctl doctor with cluster.endpoints: one finding per endpoint, against a
# real single-member etcd on loopback (free ports, temporary data dir) and a
# closed port: the live one is reachable with its etcd version, the closed
# one FAIL with its fix, and the exit status says so. With cluster.auth the
# user is authenticated: the right password passes, a wrong one is a FAIL
# naming the user and never printing the password. Without cluster.endpoints
# there is no cluster finding at all.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"
. "$VIPD_SOURCE_DIR/tests/host/etcd_lib.sh"

cport=$(free_port); pport=$(free_port); closed=$(free_port)
E="http://127.0.0.1:$cport"
C="http://127.0.0.1:$closed"
etcd_pid=
tls_pid=
cleanup() {
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null
  [ -n "$tls_pid" ] && kill "$tls_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
etcd_run t "$TMP/etcd" "$E" "$pport" "$TMP/etcd.log"
etcd_pid=$etcd_last_pid
ctl() { ETCDCTL_API=3 etcdctl --endpoints "$E" "$@"; }
etcd_await "$TMP/etcd.log" ctl
version=$(curl -s "$E/version" | python3 -c 'import json, sys; print(json.load(sys.stdin)["etcdserver"])')

mkdir -p "$TMP/apps"
cat > "$TMP/apps/web.json" <<'JSON'
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "10.9.0.1:80"}}],
 "tasks": [{"id": "web.1", "host": "127.0.0.1", "ports": [31001]}]}
JSON
# lb.ipvs false: the kernel's side is skipped, only the settings' checks count.
config() { # cluster-object-or-empty
  printf '{"apps": "%s", "checks": {"run_as": "nobody"}, "lb": {"ipvs": false}%s}\n' \
    "$TMP/apps" "${1:+, \"cluster\": $1}" > "$TMP/vipd.json"
}
cluster_lines() { printf '%s\n' "$1" | grep -E '^(ok|FAIL|skip) +cluster '; }

# No cluster configured: no cluster finding.
config ""
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1)
expect_eq "$(cluster_lines "$out")" "" "no cluster.endpoints: no cluster finding"

# The live etcd and a closed port: one line each, in the configured order.
config "{\"endpoints\": [\"$E\", \"$C\"]}"
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>"$TMP/err"); rc=$?
expect_eq "$(cluster_lines "$out")" \
"ok    cluster     etcd $E reachable: etcd $version
FAIL  cluster     etcd $C unreachable: Couldn't connect to server; fix: start etcd there, or correct \"cluster.endpoints\" in vipd's config" \
  "live and closed endpoints"
expect_eq "$rc" 1 "a closed endpoint: exit 1"
expect_eq "$(cat "$TMP/err")" "" "nothing on stderr"
json=$("$vipctl" -c "$TMP/vipd.json" doctor --json)
expect_eq "$(printf '%s' "$json" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(f["status"] for f in d["findings"] if f["check"] == "cluster"))')" "ok FAIL" "--json: the same findings"

# Only the live one: the cluster adds no FAIL, and the exit status is 0
# unless another check (the host's clock, say) fails.
config "{\"endpoints\": [\"$E\"]}"
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1); rc=$?
expect_eq "$(cluster_lines "$out")" "ok    cluster     etcd $E reachable: etcd $version" "live endpoint"
if printf '%s\n' "$out" | grep -q '^FAIL'; then expect_eq "$rc" 1 "live endpoint, another FAIL: exit 1"
else expect_eq "$rc" 0 "live endpoint, no FAIL: exit 0"; fi

# Not etcd: an HTTP server that answers 404 to /version.
wport=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$wport" --directory "$TMP/apps" >/dev/null 2>&1 &
web_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$wport/" && break; sleep 0.1; done
config "{\"endpoints\": [\"http://127.0.0.1:$wport\"]}"
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1)
expect_eq "$(cluster_lines "$out")" "FAIL  cluster     etcd http://127.0.0.1:$wport answered HTTP 404 to /version; fix: check that \"cluster.endpoints\" names etcd's client URLs" "not etcd"
kill "$web_pid"; wait "$web_pid" 2>/dev/null

# TLS: a member that requires client certificates signed by our CA. With
# cluster.tls it is reachable; without the CA its certificate is refused,
# with the TLS settings as the fix.
etcd_tls_certs "$TMP"
sport=$(free_port); spport=$(free_port)
S="https://127.0.0.1:$sport"
etcd_run s "$TMP/etcd-tls" "$S" "$spport" "$TMP/etcd-tls.log" \
  --cert-file "$TMP/server.crt" --key-file "$TMP/server.key" \
  --client-cert-auth --trusted-ca-file "$TMP/ca.crt"
tls_pid=$etcd_last_pid
sctl() { ETCDCTL_API=3 etcdctl --endpoints "$S" --cacert "$TMP/ca.crt" --cert "$TMP/client.crt" --key "$TMP/client.key" "$@"; }
for _ in $(seq 100); do sctl endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
tls='"cert": "'"$TMP/client.crt"'", "key": "'"$TMP/client.key"'"'
config "{\"endpoints\": [\"$S\"], \"tls\": {\"cacert\": \"$TMP/ca.crt\", $tls}}"
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1)
expect_eq "$(cluster_lines "$out")" "ok    cluster     etcd $S reachable: etcd $version" "TLS with cluster.tls"
config "{\"endpoints\": [\"$S\"], \"tls\": {$tls}}"
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1)
expect_eq "$(cluster_lines "$out")" "FAIL  cluster     etcd $S unreachable: SSL peer certificate or SSH remote key was not OK; fix: check \"cluster.tls\" (cacert, cert, key) against the etcd server's certificates" "TLS without the CA"

# Auth on: the right password authenticates, a wrong one is refused.
ctl user add root:s3cret-root >/dev/null 2>&1 && ctl auth enable >/dev/null 2>&1 || fail "enable etcd auth"
config "{\"endpoints\": [\"$E\"], \"auth\": {\"user\": \"root\", \"password\": \"s3cret-root\"}}"
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1)
expect_eq "$(cluster_lines "$out")" "ok    cluster     etcd $E reachable: etcd $version, authenticated as root" "right password"
config "{\"endpoints\": [\"$E\"], \"auth\": {\"user\": \"root\", \"password\": \"wrong-pw\"}}"
out=$("$vipctl" -c "$TMP/vipd.json" doctor 2>&1); rc=$?
line=$(cluster_lines "$out")
case "$line" in
  "FAIL  cluster     etcd $E refused user root: HTTP "*"; fix: check \"cluster.auth\" (etcdctl user get shows the user)") ;;
  *) fail "wrong password: [$line]" ;;
esac
case "$out" in *wrong-pw*) fail "the password is printed: $out" ;; esac
expect_eq "$rc" 1 "wrong password: exit 1"
finish
