#!/usr/bin/env bash
# Issue 9 item 5 in a cluster: two vipd nodes (--no-ipvs) with node-local app
# sources and a real etcd on loopback start at the same instant and allocate
# named VIPs concurrently in a small range: /n0-/n19 on a, /n10-/n29 on b
# (ten names on both), their first proposals made while etcd is frozen, so
# that they differ and race. Through the create-if-absent transactions on
# vips/<name> every name ends with one record (the loser adopts the
# winner's address); both nodes answer every common name with the same
# address, each node's answers are the records and are all distinct (two
# names recorded with one address in the race: the one sorting first keeps
# it, the other moves alike on every node, audited as a conflict). Then a new name on b whose home is /n0's address
# does not move /n0 on either node, and a restarted a gets every address
# back, from its state file while etcd is frozen, then from etcd.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
. "$VIPD_SOURCE_DIR/tests/host/etcd_lib.sh"
command -v dig >/dev/null || { echo "FAIL: no dig (bind9-dnsutils): scripts/setup.sh installs it"; exit 1; }

cport=$(free_port); pport=$(free_port)
E="http://127.0.0.1:$cport"
declare -A pid dport
cleanup() {
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
ctl() { ETCDCTL_API=3 etcdctl --endpoints "$E" "$@"; }

etcd_run t "$TMP/etcd" "$E" "$pport" "$TMP/etcd.log"
pid[etcd]=$etcd_last_pid
etcd_await "$TMP/etcd.log" ctl

app() { # node name
  mkdir -p "$TMP/apps-$1"
  cat > "$TMP/apps-$1/${2#/}.json" <<JSON
{"id": "$2", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "$2:80"}}]}
JSON
}
for i in $(seq 0 19); do app a "/n$i"; done
for i in $(seq 10 29); do app b "/n$i"; done

start_node() { # name
  cat > "$TMP/$1.json" <<JSON
{"dns": {"listen": "127.0.0.1:${dport[$1]}", "zones": ["vips.test"]},
 "lb": {"named_vip_range_v4": "10.203.0.0-10.203.0.31", "state_file": "$TMP/$1-state.json"},
 "reload_seconds": 1,
 "cluster": {"hosts": ["127.0.9.9"], "endpoints": ["$E"], "lease_ttl": 5}}
JSON
  "$vipd" -c "$TMP/$1.json" --no-ipvs --apps "$TMP/apps-$1" --audit "$TMP/$1.audit" --node "$1" \
    --run-for 120 2>>"$TMP/$1.err" &
  pid[$1]=$!
}
# The A answer only: dig +short prints its errors (";; communications error
# ... connection refused") on stdout, which is no answer.
q() { dig @127.0.0.1 -p "${dport[$1]}" +time=1 +tries=1 +short "$2.marathon.vips.test" A 2>/dev/null | grep -E '^[0-9.]+$'; }
record() { ctl get --print-value-only "/vipd/v1/vips/%2F$1" | grep -o '"ipv4":"[0-9.]*"' | cut -d'"' -f4; }
# Waits until node's answer for label equals its etcd record; prints it.
settled() { # node label
  local got rec
  for _ in $(seq 100); do
    got=$(q "$1" "$2"); rec=$(record "$2")
    [ -n "$got" ] && [ "$got" = "$rec" ] && { echo "$got"; return 0; }
    sleep 0.1
  done
  fail "$1: $2 answers [$got], its record is [$rec]"
}
dport[a]=$((10000 + RANDOM % 10000)); dport[b]=$((dport[a] + 1))
# etcd frozen while both nodes build their first tables, each allocating
# alone over its own names (with 30 names in 32 addresses their proposals
# for the common names differ, and different names share addresses); its
# resumption then serves both nodes' create transactions in one race.
kill -STOP "${pid[etcd]}"
start_node a
start_node b
for n in a b; do
  for _ in $(seq 100); do [ -n "$(q $n n15)" ] && break; sleep 0.1; done
done
declare -A first_a first_b
for i in $(seq 10 19); do first_a[n$i]=$(q a "n$i"); first_b[n$i]=$(q b "n$i"); done
kill -CONT "${pid[etcd]}"

# Settled: a record per name, no address recorded twice (a conflict of the
# race is rewritten by the node using the name that sorts after).
dup_records() { ctl get --prefix --print-value-only /vipd/v1/vips/ | grep -o '"ipv4":"[0-9.]*"' | sort | uniq -d; }
for _ in $(seq 100); do
  [ "$(ctl get --prefix --keys-only /vipd/v1/vips/ | grep -c .)" = 30 ] && [ -z "$(dup_records)" ] && break
  sleep 0.1
done
expect_eq "$(ctl get --prefix --keys-only /vipd/v1/vips/ | grep -c .)" 30 "one record per name"
expect_eq "$(dup_records)" "" "the records' addresses are distinct"
declare -A addr_a addr_b
for i in $(seq 0 19); do addr_a[n$i]=$(settled a "n$i"); done
for i in $(seq 10 29); do addr_b[n$i]=$(settled b "n$i"); done
for i in $(seq 10 19); do
  expect_eq "${addr_b[n$i]}" "${addr_a[n$i]}" "/n$i on b and on a"
done
expect_eq "$(printf '%s\n' "${addr_a[@]}" | sort | uniq -d)" "" "a's addresses are distinct"
expect_eq "$(printf '%s\n' "${addr_b[@]}" | sort | uniq -d)" "" "b's addresses are distinct"
differed=0
for i in $(seq 10 19); do [ "${first_a[n$i]}" != "${first_b[n$i]}" ] && differed=$((differed + 1)); done
[ "$differed" -gt 0 ] || fail "the race did not happen: a and b proposed the same addresses"

# FNV-1a-32 mod 32: a name whose home is /n0's address, added on b.
home() {
  local s=$1 h=2166136261 i c
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(((h ^ c) * 16777619 & 0xffffffff))
  done
  echo $((h % 32))
}
want=${addr_a[n0]##*.}
new=
for i in $(seq 100 2000); do [ "$(home "/m$i")" = "$want" ] && { new=m$i; break; }; done
[ -n "$new" ] || fail "no name with home $want"
app b "/$new"
got=$(settled b "$new")
[ "$got" != "${addr_a[n0]}" ] || fail "/$new was given /n0's address"
expect_eq "$(q a n0)" "${addr_a[n0]}" "/n0 stays on a"

# A restart of a with etcd frozen: every address from its state file's copy
# of the records (fail static); then etcd's, the same.
kill "${pid[a]}"; wait "${pid[a]}" 2>/dev/null
kill -STOP "${pid[etcd]}"
start_node a
for _ in $(seq 300); do [ -n "$(q a n19)" ] && break; sleep 0.1; done
for i in $(seq 0 19); do expect_eq "$(q a "n$i")" "${addr_a[n$i]}" "/n$i on a restarted without etcd"; done
kill -CONT "${pid[etcd]}"
for i in $(seq 0 19); do expect_eq "$(settled a "n$i")" "${addr_a[n$i]}" "/n$i on a after a restart"; done
finish
