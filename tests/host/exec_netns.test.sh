#!/bin/bash
# Executors inside a real network namespace: a backend reachable only there
# (127.0.0.1 of the namespace), a route that swallows SYNs (a veth whose peer
# has no address, both ends inside the namespace), a command that must run in
# it, a namespace deleted and re-created under the same path, and a missing
# one. No packet leaves the namespace or the host's loopback.
set -euo pipefail

tool="${VIPD_BUILD_DIR:?}/tests/exec_netns_tool"
ns="vipd-exec-$$"
nspath="/run/netns/$ns"
port=$((20000 + RANDOM % 20000))
server=""

if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
	echo "SKIP: needs root and ip netns"
	exit 0
fi

cleanup() {
	[[ -n "$server" ]] && kill "$server" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect "<line prefix>" <tool args...>
expect() {
	local want="$1" got
	shift
	got=$("$tool" check "$@")
	[[ "$got" == "$want"* ]] || fail "check $*: want '$want...', got '$got'"
	echo "ok: $* -> $got"
}

make_ns() {
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add va type veth peer name vb
	ip -n "$ns" link set va up
	ip -n "$ns" link set vb up
	ip -n "$ns" addr add 10.213.0.1/24 dev va
}

start_server() {
	ip netns exec "$ns" "$tool" serve 127.0.0.1 "$port" &
	server=$!
	for _ in $(seq 50); do
		if "$tool" check tcp "127.0.0.1:$port" --netns "$nspath" --timeout 1 | grep -q '^ok '; then
			return 0
		fi
		sleep 0.1
	done
	fail "server in $ns did not come up"
}

# A port the host's own loopback refuses, so "only reachable inside" holds.
for _ in $(seq 20); do
	"$tool" check tcp "127.0.0.1:$port" --timeout 1 | grep -q '^connect_failed ' && break
	port=$((20000 + RANDOM % 20000))
done

make_ns
start_server

# The backend answers only inside the namespace.
expect "ok 200 -1 HTTP 200 inside" http "127.0.0.1:$port" --netns "$nspath"
expect "ok 0 -1" tcp "127.0.0.1:$port" --netns "$nspath"
expect "connect_failed" http "127.0.0.1:$port"
expect "connect_failed" tcp "127.0.0.1:$port"

# SYNs into the void inside the namespace: a timeout, not a refusal.
start=$(date +%s%N)
expect "timeout 0" tcp "10.213.0.2:80" --netns "$nspath" --timeout 0.5
expect "timeout 0" http "10.213.0.2:80" --netns "$nspath" --timeout 0.5
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
((elapsed_ms < 6000)) || fail "two 0.5 s timeouts took ${elapsed_ms} ms"

# A command runs in the namespace (and unprivileged).
want_ns=$(ip netns exec "$ns" readlink /proc/self/ns/net)
expect "ok 0 0 $want_ns 65534" command 'readlink /proc/self/ns/net; id -u' --netns "$nspath"
expect "ok 0 0 10.213.0.1" command "ip -4 -o addr show dev va | sed 's/.*inet \\([0-9.]*\\).*/\\1/'" \
	--netns "$nspath"

# The namespace is deleted and re-created under the same path between two
# runs of one process: the second run must use the new namespace (whose
# backend is not started), not a cached fd of the old one.
out=$("$tool" check http "127.0.0.1:$port" --netns "$nspath" --count 2 \
	--between "kill $server; ip netns del $ns; ip netns add $ns; ip -n $ns link set lo up")
server=""
echo "$out"
[[ "$(sed -n 1p <<<"$out")" == "ok 200"* ]] || fail "first run before re-creation: $out"
[[ "$(sed -n 2p <<<"$out")" == "connect_failed"* ]] || fail "second run used the old namespace: $out"

# A namespace that is not there.
ip netns del "$ns"
expect "netns_failed 0 -1 netns $nspath: open: No such file or directory" http "127.0.0.1:$port" --netns "$nspath"
expect "netns_failed 0 -1 netns $nspath: open: No such file or directory" tcp "127.0.0.1:$port" --netns "$nspath"
expect "netns_failed 0 -1 netns $nspath: open: No such file or directory" command true --netns "$nspath"
echo "PASS"
