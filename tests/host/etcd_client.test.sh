#!/usr/bin/env bash
# vipd's etcd client (tests/tools/etcd_tool) against a real single-member etcd
# on loopback, started here on free ports with a temporary data dir: leases,
# puts under a lease, range reads, a watch from a past revision seeing puts
# and deletes (and the deletes a revoked lease causes), keep-alive, the
# create-if-absent txn, a compacted start revision reported to the caller,
# failover from a closed port to the live endpoint, TLS with a client
# certificate, a bad answer as a located warning, and user/password auth
# that never prints the password.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
tool="$VIPD_BUILD_DIR/tests/etcd_tool"
. "$VIPD_SOURCE_DIR/tests/host/etcd_lib.sh"

cport=$(free_port); pport=$(free_port); closed=$(free_port); fport=$(free_port)
E="http://127.0.0.1:$cport"
pids=()
cleanup() {
  exec 3>&- 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

start_etcd() {
  etcd_run t "$TMP/etcd" "$E" "$pport" "$TMP/etcd.log"
  etcd_pid=$etcd_last_pid
  pids+=($etcd_pid)
}
ctl() { ETCDCTL_API=3 etcdctl --endpoints "$E" "$@"; }
start_etcd
etcd_await "$TMP/etcd.log" ctl

# The tool reads commands from a fifo; its answers accumulate in $TMP/out.
start_tool() { # out-file tool-args...
  local o=$1; shift
  rm -f "$TMP/in"; mkfifo "$TMP/in"
  "$tool" "$@" <"$TMP/in" >"$o" 2>"$o.err" &
  tool_pid=$!
  pids+=($tool_pid)
  exec 3>"$TMP/in"
}
# Closes the tool's input: it must exit 0 with nothing on stderr (ASan's
# leak report would land there).
stop_tool() { # out-file
  exec 3>&-
  for _ in $(seq 50); do kill -0 "$tool_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$tool_pid" 2>/dev/null && { fail "etcd_tool did not exit at the end of its input"; kill "$tool_pid"; }
  wait "$tool_pid"
  expect_eq "$?" 0 "etcd_tool exit status"
  [ -s "$1.err" ] && fail "etcd_tool stderr: $(cat "$1.err")"
}
send() { echo "$*" >&3; }
# Waits (5 s) for a line matching the extended regex and prints the first.
await() { # out-file regex what
  local line
  for _ in $(seq 50); do
    line=$(grep -E -m1 -- "$2" "$1") && { echo "$line"; return 0; }
    sleep 0.1
  done
  fail "$3: no line matching [$2] in:"$'\n'"$(cat "$1")"
  return 1
}
O="$TMP/out"
start_tool "$O" --endpoints "http://127.0.0.1:$closed,$E"
await "$O" '^ready$' "tool start" >/dev/null

# Failover: the first endpoint is a closed port, the request is answered by the second.
send grant 30
lease=$(await "$O" '^grant [0-9]+ ttl 30$' "lease grant" | cut -d' ' -f2)
send endpoint
await "$O" "^endpoint $E\$" "the endpoint that answered is kept" >/dev/null

send put /t/backends/a v1 "$lease"
await "$O" '^put ok rev [0-9]+$' "put a" >/dev/null
first=$(ctl get /t/backends/a -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')
send put /t/backends/b v2 "$lease"
await "$O" "^put ok rev $((first + 1))\$" "put b" >/dev/null
send get /t/
await "$O" "^get rev $((first + 1)) count 2\$" "range: revision and count" >/dev/null
await "$O" "^kv /t/backends/a v1 lease $lease\$" "range: a under the lease" >/dev/null
await "$O" "^kv /t/backends/b v2 lease $lease\$" "range: b under the lease" >/dev/null
expect_eq "$(ctl get /t/backends/b --print-value-only)" "v2" "etcdctl reads what the client put"

# A watch from a past revision replays history, then follows new changes.
send watch /t/ "$first"
await "$O" '^watch created' "watch created" >/dev/null
await "$O" '^event PUT /t/backends/a v1$' "watch replays the put at its start revision" >/dev/null
await "$O" '^event PUT /t/backends/b v2$' "watch replays the later put" >/dev/null
ctl put /t/backends/c v3 >/dev/null
await "$O" '^event PUT /t/backends/c v3$' "watch sees a new put" >/dev/null
send del /t/backends/a
await "$O" '^del 1$' "delete answered" >/dev/null
await "$O" '^event DELETE /t/backends/a $' "watch sees the delete" >/dev/null

send keepalive "$lease"
await "$O" "^keepalive $lease ttl 30\$" "keep-alive renews the lease" >/dev/null
send revoke "$lease"
await "$O" '^revoke ok' "revoke answered" >/dev/null
await "$O" '^event DELETE /t/backends/b $' "revoking the lease deletes its keys, seen by the watch" >/dev/null
expect_eq "$(ctl get /t/backends/b --print-value-only)" "" "b is gone after the revoke"
expect_eq "$(ctl get /t/backends/c --print-value-only)" "v3" "c had no lease and stays"
send keepalive "$lease"
await "$O" "^keepalive $lease ttl 0\$" "keep-alive of a revoked lease says it is gone (ttl 0)" >/dev/null

# Compare-and-swap: the first create wins, the second sees its value.
send create /t/vips/web 11.0.0.1
await "$O" '^create succeeded$' "create of an absent key" >/dev/null
send create /t/vips/web 11.0.0.2
await "$O" '^create exists 11.0.0.1$' "create of an existing key returns the existing value" >/dev/null

# A watch from a compacted revision is cancelled with the compact revision.
send unwatch
await "$O" '^unwatched$' "unwatch" >/dev/null
rev=$(ctl put /t/backends/d v4 -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
ctl compact "$rev" >/dev/null
send watch /t/ "$first"
await "$O" "^watch canceled compact $rev\$" "watch from a compacted revision reports compaction" >/dev/null
await "$O" "^watch end: etcd $E /v3/watch: canceled by etcd \\(compact revision $rev" \
  "the watch ends with the compact revision" >/dev/null
send watch /t/ $((rev + 1))
await "$O" "^watch created rev $rev\$" "a fresh watch from the current revision" >/dev/null
stop_tool "$O"

# etcd down: with retry rounds, a request waits (backing off) and is
# answered once etcd is back; without, it fails at once, located.
kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null
R="$TMP/retry.out"
start_tool "$R" --endpoints "$E" --retry-rounds 8
send get /t/backends/
sleep 0.5
expect_eq "$(grep -c -e '^get' -e '^error' "$R")" 0 "no answer while etcd is down and retries remain"
start_etcd
await "$R" '^kv /t/backends/c v3 lease 0$' "the request is answered once etcd is back" >/dev/null
stop_tool "$R"
kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null
R="$TMP/noretry.out"
start_tool "$R" --endpoints "$E"
send get /t/backends/
await "$R" "^error get: etcd $E /v3/kv/range: Failed to connect to 127.0.0.1 port $cport" \
  "without retry rounds, a refused connection is an error at once" >/dev/null
stop_tool "$R"
start_etcd
for _ in $(seq 100); do ctl endpoint health >/dev/null 2>&1 && break; sleep 0.1; done

# A member answering garbage: one bad key is a located warning, the others stay.
python3 - "$fport" >"$TMP/fake.log" 2>&1 3>&- <<'PY' &
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"header": {"revision": "7"}, "count": "2", "kvs": [
            {"key": "L3QvZ29vZA==", "value": "b2s=", "mod_revision": "7"},
            {"key": "L3QvYmFk", "value": "!!not base64", "mod_revision": "7"}]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
for _ in $(seq 50); do (exec 4<>"/dev/tcp/127.0.0.1/$fport") 2>/dev/null && break; sleep 0.1; done
F="$TMP/fake.out"
start_tool "$F" --endpoints "http://127.0.0.1:$fport"
send get /t/
await "$F" "^warning: etcd http://127.0.0.1:$fport /v3/kv/range: /kvs/1/value: expected base64, got \"!!not base64\" \\(skipped\\)\$" \
  "a bad value is a located warning" >/dev/null
await "$F" '^get rev 7 count 2$' "the answer is still used" >/dev/null
await "$F" '^kv /t/good ok lease 0$' "the good key is kept" >/dev/null
stop_tool "$F"

# TLS: a second member that requires client certificates signed by our CA.
etcd_tls_certs "$TMP"
sport=$(free_port); spport=$(free_port)
S="https://127.0.0.1:$sport"
etcd_run s "$TMP/etcd-tls" "$S" "$spport" "$TMP/etcd-tls.log" \
  --cert-file "$TMP/server.crt" --key-file "$TMP/server.key" \
  --client-cert-auth --trusted-ca-file "$TMP/ca.crt"
pids+=($etcd_last_pid)
sctl() { ETCDCTL_API=3 etcdctl --endpoints "$S" --cacert "$TMP/ca.crt" --cert "$TMP/client.crt" --key "$TMP/client.key" "$@"; }
for _ in $(seq 100); do sctl endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
T="$TMP/tls.out"
start_tool "$T" --endpoints "$S" --cacert "$TMP/ca.crt" --cert "$TMP/client.crt" --key "$TMP/client.key"
send put /t/tls yes
await "$T" '^put ok rev' "put over TLS with a client certificate" >/dev/null
stop_tool "$T"
expect_eq "$(sctl get /t/tls --print-value-only)" "yes" "etcdctl reads the TLS put"
N="$TMP/nocert.out"
start_tool "$N" --endpoints "$S" --cacert "$TMP/ca.crt"
send get /t/tls
await "$N" "^error get: etcd $S /v3/kv/range: " "without a client certificate the member refuses" >/dev/null
stop_tool "$N"
N="$TMP/noca.out"
start_tool "$N" --endpoints "$S" --cert "$TMP/client.crt" --key "$TMP/client.key"
send get /t/tls
await "$N" "^error get: etcd $S /v3/kv/range: SSL certificate problem: unable to get local issuer certificate\$" \
  "a member whose certificate the CA bundle does not vouch for is refused" >/dev/null
stop_tool "$N"

# Auth: with etcd's auth on, user and password give a token; a wrong password
# is refused, and neither password appears in anything the client says.
ctl user add root:s3cret-root >/dev/null && ctl auth enable >/dev/null || fail "enable etcd auth"
A="$TMP/auth.out"
start_tool "$A" --endpoints "$E" --user root --password s3cret-root
send put /t/auth yes
await "$A" '^put ok rev' "put with a token" >/dev/null
send get /t/auth
await "$A" '^kv /t/auth yes lease 0$' "range with a token" >/dev/null
stop_tool "$A"
W="$TMP/wrong.out"
start_tool "$W" --endpoints "$E" --user root --password wr0ng-pass
send get /t/auth
await "$W" "^error get: etcd $E /v3/auth/authenticate: etcd error 3: etcdserver: authentication failed, invalid user ID or password\$" \
  "a wrong password is refused, located" >/dev/null
stop_tool "$W"
for f in "$A" "$A.err" "$W" "$W.err"; do
  grep -q -e s3cret-root -e wr0ng-pass "$f" && fail "a password appears in $(basename "$f")"
done
ETCDCTL_API=3 etcdctl --endpoints "$E" --user root:s3cret-root auth disable >/dev/null
finish
