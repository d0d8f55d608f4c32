#!/usr/bin/env bash
# Three vipd "nodes" (a, b, c) on this host joined through a real etcd on
# loopback, with --no-ipvs (the audit log's planned operations show what each
# would program) and one shared app source whose tasks are spread over the
# nodes by host (127.0.0.1x: a, 127.0.0.2x: b, 127.0.0.3x: c), each task a
# real HTTP server on its own loopback address; a fourth node d with a
# node-local app source (only its own app /api, task on 127.0.0.41). Asserts issue 9 items 1-4
# and 8: each node checks only its own tasks; every node plans every VIP
# with every healthy backend; a backend failing on a leaves b's plan; kill -9
# of a: its backends leave b's plan within the lease TTL, except a VIP's
# only ones (kept, audited as expired_kept_last_backends); SIGTERM of a:
# gone at once, but for a VIP's only ones (kept likewise); etcd stopped:
# b's plan unchanged and a local health change still applied; etcd back: c
# converges; c's lease revoked behind its back: a new lease and everything
# published again.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
. "$VIPD_SOURCE_DIR/tests/host/etcd_lib.sh"

cport=$(free_port); pport=$(free_port); bport=$(free_port)
E="http://127.0.0.1:$cport"
TTL=5
declare -A pid
trap etcd_lib_cleanup EXIT

start_etcd() {
  etcd_run t "$TMP/etcd" "$E" "$pport" "$TMP/etcd.log"
  pid[etcd]=$etcd_last_pid
  etcd_await "$TMP/etcd.log" ctl
}
ctl() { ETCDCTL_API=3 etcdctl --endpoints "$E" "$@"; }

start_backend() { # address
  python3 "$VIPD_SOURCE_DIR/examples/backends/backend.py" --bind "$1" --http "$bport:$1" >/dev/null 2>&1 &
  pid[be$1]=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://$1:$bport/" && return 0; sleep 0.1; done
  fail "backend $1 never answered"
}
stop_backend() { kill "${pid[be$1]}"; wait "${pid[be$1]}" 2>/dev/null; }

# /web has a task on every node; /solo's only task runs on a.
mkdir -p "$TMP/apps"
check='"healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0, "intervalSeconds": 1,
   "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0, "maxConsecutiveFailures": 1}]'
cat > "$TMP/apps/apps.json" <<JSON
[{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}], $check,
  "tasks": [{"id": "web.a", "host": "127.0.0.11", "ports": [$bport]},
            {"id": "web.b", "host": "127.0.0.21", "ports": [$bport]},
            {"id": "web.c", "host": "127.0.0.31", "ports": [$bport]}]},
 {"id": "/solo", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/solo:80"}}], $check,
  "tasks": [{"id": "solo.a", "host": "127.0.0.12", "ports": [$bport]}]}]
JSON

start_node() { # name hosts [audit-name [apps]]
  local log=${3:-$1} apps=${4:-$TMP/apps}
  cat > "$TMP/$1.json" <<JSON
{"lb": {"drain_seconds": 0, "resync_seconds": 0},
 "cluster": {"hosts": [$2], "endpoints": ["http://127.0.0.1:1", "$E"], "lease_ttl": $TTL}}
JSON
  "$vipd" -c "$TMP/$1.json" --no-ipvs --apps "$apps" --audit "$TMP/$log.audit" --node "$1" \
    --run-for 300 2>>"$TMP/$log.err" &
  pid[$1]=$!
}
# Waits for the n-th line (default 1) matching all the patterns in a node's
# audit log; prints nothing.
wait_for() { # node seconds n pattern...
  local node=$1 secs=$2 n=$3; shift 3
  for _ in $(seq $((secs * 10))); do
    [ "$(matching "$node" "$@" | wc -l)" -ge "$n" ] && return 0
    sleep 0.1
  done
  fail "$node's audit log never showed $n x [$*] within $secs s"
  return 1
}
matching() { # node pattern...
  local out; out=$(cat "$TMP/$1.audit" 2>/dev/null); shift
  for p in "$@"; do out=$(grep -- "$p" <<<"$out"); done
  [ -n "$out" ] && echo "$out"
}
dest() { echo "\"dest\":\"$1:$bport\""; }

# Settings: located errors, exit 2; a node name that cannot be a key part
# stops vipd before anything starts.
cat > "$TMP/bad.json" <<'JSON'
{"cluster": {"lease_ttl": 1, "hosts": ["127.0.0.11", 7], "endpoints": []}}
JSON
"$vipd" -c "$TMP/bad.json" --check-config >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "$rc" 2 "bad cluster settings exit code"
expect_eq "$(sort "$TMP/err")" "$(sort <<EOF
vipd: error: $TMP/bad.json: /cluster/hosts: item 1: expected a non-empty string without commas
vipd: error: $TMP/bad.json: /cluster/endpoints: expected a comma list or a non-empty array of strings
vipd: error: $TMP/bad.json: /cluster/lease_ttl: expected at least 2 seconds, got 1
EOF
)" "bad cluster settings messages"
echo '[]' > "$TMP/none.json"
"$vipd" --no-ipvs --apps "$TMP/none.json" --audit "$TMP/x.audit" --node 'a/1' --etcd "$E" \
  --run-for 5 2>"$TMP/err"; rc=$?
expect_eq "$rc" 1 "bad node name exit code"
expect_contains "$(cat "$TMP/err")" 'vipd: fatal: cluster.node "a/1": expected 1-63 of [A-Za-z0-9._-] (default: the host name)'

mkdir -p "$TMP/apps-d"
cat > "$TMP/apps-d/api.json" <<JSON
{"id": "/api", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/api:80"}}], $check,
 "tasks": [{"id": "api.d", "host": "127.0.0.41", "ports": [$bport]}]}
JSON

start_etcd
for a in 127.0.0.11 127.0.0.12 127.0.0.21 127.0.0.31 127.0.0.41; do start_backend $a; done
start_node a '"127.0.0.11", "127.0.0.12"'
start_node b '"127.0.0.21"'
start_node c '"127.0.0.31"'
start_node d '"127.0.0.41"' d "$TMP/apps-d"

# Every node plans every VIP with every healthy backend, d's /api included,
# each named VIP at the same address everywhere.
for n in a b c d; do
  for be in 127.0.0.11 127.0.0.12 127.0.0.21 127.0.0.31 127.0.0.41; do
    wait_for $n 15 1 '"op":"add_dest"' "$(dest $be)" '"result":"planned"'
  done
  wait_for $n 5 1 '"event":"cluster_lease"' '"state":"granted"'
  wait_for $n 5 1 '"event":"cluster_etcd"' '"state":"connected"'
done
svc() { matching "$1" '"op":"add_dest"' "$(dest "$2")" | head -1 | grep -o '"service":"[^"]*"'; }
for be in 127.0.0.11 127.0.0.12 127.0.0.41; do
  for n in b c d; do expect_eq "$(svc $n $be)" "$(svc a $be)" "$n's service of backend $be"; done
done
wait_for b 5 1 '"event":"cluster_backend"' '"change":"appeared"' '"node":"a"' '"vip":"/solo:80"' \
  '"protocol":"tcp"' '"backend":"127.0.0.12:'"$bport"'"' '"weight":1' '"health":"healthy"' \
  '"app":"/solo"' '"task":"solo.a"'
# Each node checks only its own tasks.
for n in a b c d; do
  own=$(grep '"event":"check"' "$TMP/$n.audit" | grep -o '"task":"[a-z.]*"' | sort -u | tr -d '\n')
  case $n in
    a) expect_eq "$own" '"task":"solo.a""task":"web.a"' "tasks checked by a" ;;
    b) expect_eq "$own" '"task":"web.b"' "tasks checked by b" ;;
    c) expect_eq "$own" '"task":"web.c"' "tasks checked by c" ;;
    d) expect_eq "$own" '"task":"api.d"' "tasks checked by d" ;;
  esac
done
# Only changes are written: nothing changes, so a's keys keep their version.
v1=$(ctl get --prefix /vipd/v1/backends/a/ -w json | grep -o '"version":[0-9]*' | tr -d '\n')
sleep 2
v2=$(ctl get --prefix /vipd/v1/backends/a/ -w json | grep -o '"version":[0-9]*' | tr -d '\n')
expect_eq "$v2" "$v1" "versions of a's keys with nothing changing"
expect_eq "$(ctl get --prefix /vipd/v1/backends/a/ --keys-only | grep -c backends)" 2 "a's keys"

# A backend failing on a leaves b's plan; back, it returns.
stop_backend 127.0.0.11
wait_for a 10 1 '"event":"task"' '"task":"web.a"' '"to":"unhealthy"'
wait_for b 5 1 '"op":"del_dest"' "$(dest 127.0.0.11)"
wait_for b 5 1 '"event":"cluster_backend"' '"change":"changed"' '"health":"unhealthy"' '"task":"web.a"'
start_backend 127.0.0.11
wait_for b 15 2 '"op":"add_dest"' "$(dest 127.0.0.11)"
# b learnt both of a's changes through patch rounds of /web's services, not
# by rebuilding its whole table.
kill -USR1 "${pid[b]}"
wait_for b 5 1 '"event":"stats"'
rr=$(matching b '"event":"stats"' | tail -1 | grep -o '"remote_rounds":[0-9]*' | cut -d: -f2)
expect_eq "$(( ${rr:-0} >= 2 ))" 1 "b's patch rounds for other nodes' changes (remote_rounds: ${rr:-none})"

# kill -9 of a: /web loses a's backend within the TTL; /solo keeps its only one.
kill -9 "${pid[a]}"; wait "${pid[a]}" 2>/dev/null
killed=$(date +%s)
wait_for b $((TTL + 5)) 2 '"op":"del_dest"' "$(dest 127.0.0.11)"
expect_eq "$(( $(date +%s) - killed <= TTL + 5 ))" 1 "a's backend gone from b's plan within the TTL"
wait_for b 2 1 '"event":"cluster_backend"' '"change":"expired"' '"node":"a"' '"task":"web.a"'
wait_for b 2 1 '"event":"cluster_rule"' '"vip":"/solo:80"' '"rule":"expired_kept_last_backends"' '"expired":1'
wait_for b 2 1 '"event":"cluster_rule"' '"vip":"/web:80"' '"rule":"expired_dropped"'
matching b '"op":"del_dest"' "$(dest 127.0.0.12)" >/dev/null &&
  fail "b dropped /solo's only backend when a's lease expired"
wait_for c $((TTL + 5)) 2 '"op":"del_dest"' "$(dest 127.0.0.11)"

# a back: its backends return; SIGTERM (the lease revoked): /web's leaves b's
# plan at once, /solo's only one stays (a restart must not black-hole it).
start_node a '"127.0.0.11", "127.0.0.12"' a2
wait_for b 15 3 '"op":"add_dest"' "$(dest 127.0.0.11)"
wait_for b 5 1 '"event":"cluster_rule"' '"vip":"/solo:80"' '"rule":"live"'
wait_for a2 5 1 '"event":"task"' '"task":"solo.a"' '"to":"healthy"'
sleep 0.5
matching b '"op":"del_dest"' "$(dest 127.0.0.12)" >/dev/null &&
  fail "b dropped /solo's only backend while a came back"
kill -TERM "${pid[a]}"
termed=$(date +%s.%N)
wait_for b 3 3 '"op":"del_dest"' "$(dest 127.0.0.11)"
expect_eq "$(python3 -c "import time; print(int(time.time() - $termed < 2.5))")" 1 \
  "a's /web backend gone from b's plan at once after SIGTERM"
wait_for b 2 2 '"event":"cluster_rule"' '"vip":"/solo:80"' '"rule":"expired_kept_last_backends"' '"expired":1'
matching b '"op":"del_dest"' "$(dest 127.0.0.12)" >/dev/null &&
  fail "b dropped /solo's only backend when a stopped"
wait "${pid[a]}"; expect_eq "$?" 0 "a's exit status after SIGTERM"
wait_for a2 1 1 '"event":"cluster_lease"' '"state":"revoked"'
matching a2 '"op":"del_' | grep -q . && fail "a changed its own plan when stopped"
expect_eq "$(ctl get --prefix /vipd/v1/ --keys-only | grep -c '/a/\|live/a')" 0 "a's keys after SIGTERM"

# etcd stopped: fail static, local health still applied.
kill -9 "${pid[etcd]}"; wait "${pid[etcd]}" 2>/dev/null
wait_for b 10 1 '"event":"cluster_etcd"' '"state":"disconnected"'
before=$(grep -c '"event":"ipvs"' "$TMP/b.audit")
stop_backend 127.0.0.21
wait_for b 10 1 '"op":"del_dest"' "$(dest 127.0.0.21)"
sleep 1
expect_eq "$(grep '"event":"ipvs"' "$TMP/b.audit" | tail -n +$((before + 1)) | grep -v "$(dest 127.0.0.21)" | wc -l)" 0 \
  "b's other planned operations while etcd is down"
matching c '"op":"del_dest"' "$(dest 127.0.0.21)" >/dev/null && fail "c learnt b's change with etcd down"
# etcd back: c converges on b's change.
start_etcd
wait_for c 20 1 '"op":"del_dest"' "$(dest 127.0.0.21)"
wait_for b 20 2 '"event":"cluster_etcd"' '"state":"connected"'

# c's lease lost (revoked behind its back): a new lease and a full re-publish.
lease=$(matching c '"event":"cluster_lease"' '"state":"granted"' | tail -1 | grep -o '"lease":[0-9]*' | cut -d: -f2)
ctl lease revoke "$(printf '%x' "$lease")" >/dev/null || fail "revoking c's lease"
wait_for c 10 1 '"event":"cluster_lease"' '"state":"lost"' "\"lease\":$lease"
wait_for c 5 2 '"event":"cluster_lease"' '"state":"granted"'
wait_for b 5 1 '"event":"cluster_backend"' '"change":"expired"' '"node":"c"' '"task":"web.c"'
wait_for b 5 1 '"event":"cluster_backend"' '"change":"changed"' '"node":"c"' '"task":"web.c"' '"health":"healthy"'
for _ in $(seq 20); do
  [ "$(ctl get --prefix /vipd/v1/ --keys-only | grep -c 'backends/c/\|live/c')" = 2 ] && break; sleep 0.2
done
expect_eq "$(ctl get --prefix /vipd/v1/ --keys-only | grep -c 'backends/c/\|live/c')" 2 "c's keys after a new lease"

# SIGTERM with etcd hanging (stopped, not refusing): the withdrawal is given
# up after a bounded wait.
kill -STOP "${pid[etcd]}"
wait_for d 10 1 '"event":"cluster_etcd"' '"state":"disconnected"'
termed=$(date +%s.%N)
kill -TERM "${pid[d]}"; wait "${pid[d]}"; expect_eq "$?" 0 "d's exit status with etcd gone"
expect_eq "$(python3 -c "import time; print(int(time.time() - $termed < 4))")" 1 \
  "d stopped within its bounded wait with etcd gone"
expect_contains "$(cat "$TMP/d.err")" "etcd did not answer in time; leaving without it"
kill -9 "${pid[etcd]}"; wait "${pid[etcd]}" 2>/dev/null

for n in b c; do
  kill -TERM "${pid[$n]}"; wait "${pid[$n]}"; expect_eq "$?" 0 "$n's exit status"
done
for n in a a2 b c d; do
  grep -q "ERROR: AddressSanitizer\|runtime error" "$TMP/$n.err" && fail "$n: $(cat "$TMP/$n.err")"
done
finish
