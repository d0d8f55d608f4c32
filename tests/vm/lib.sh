# Shared helpers for scenarios that run inside the VM (source it from a guest script).
# Backends live in network namespaces behind veth pairs, VIPs on a dummy interface; every
# address stays inside the guest's kernel.

LIB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
LIB_PIDS=()

lib_log() {
	echo "--- $*"
}

lib_fail() {
	echo "FAIL: $*"
	exit 1
}

# lib_assert_eq EXPECTED ACTUAL WHAT
lib_assert_eq() {
	[[ $1 == "$2" ]] || lib_fail "$3: expected [$1], got [$2]"
	echo "ok: $3"
}

# lib_assert_contains HAYSTACK NEEDLE WHAT
lib_assert_contains() {
	[[ $1 == *"$2"* ]] || lib_fail "$3: [$2] not found in [$1]"
	echo "ok: $3"
}

# lib_run_vm GUEST_SCRIPT [ARGS...]: from the host, boot the VM and run a guest script.
lib_run_vm() {
	bash "$LIB_DIR/vm.sh" "$@"
}

# lib_modules MOD...: modules the scenario needs, loaded up front so a missing
# one fails here with its name rather than later as a puzzling "Operation not supported".
lib_modules() {
	local mod
	for mod in "$@"; do
		modprobe "$mod" || lib_fail "modprobe $mod"
	done
}

# lib_backend_netns NETNS HOST_CIDR NS_CIDR [HOST_CIDR6 NS_CIDR6]
# A namespace reached through veth "v-NETNS"; its default route points back at the host
# side so that NAT replies return through IPVS.
lib_backend_netns() {
	local ns=$1 host_cidr=$2 ns_cidr=$3 host6=${4:-} ns6=${5:-}
	local host_if="v-$ns" peer_if="p-$ns"
	ip netns add "$ns" || lib_fail "ip netns add $ns"
	ip link add "$host_if" type veth peer name "$peer_if" || lib_fail "veth for $ns"
	ip link set "$peer_if" netns "$ns"
	ip addr add "$host_cidr" dev "$host_if"
	ip link set "$host_if" up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$ns_cidr" dev "$peer_if"
	ip -n "$ns" link set "$peer_if" up
	ip -n "$ns" route add default via "${host_cidr%/*}"
	if [[ -n $host6 ]]; then
		ip addr add "$host6" dev "$host_if" nodad
		ip -n "$ns" addr add "$ns6" dev "$peer_if" nodad
		ip -n "$ns" -6 route add default via "${host6%/*}"
	fi
}

# lib_responder NETNS NAME PORT [ADDRESS]: an HTTP server in NETNS answering with NAME.
lib_responder() {
	local ns=$1 name=$2 port=$3 addr=${4:-0.0.0.0}
	ip netns exec "$ns" python3 "$LIB_DIR/guest/responder.py" "$name" "$port" "$addr" &
	LIB_PIDS+=($!)
}

# lib_wait_port [NETNS] ADDR PORT: wait until a TCP connect succeeds (bounded attempts).
lib_wait_port() {
	local exec=()
	if [[ $# -eq 3 ]]; then
		exec=(ip netns exec "$1")
		shift
	fi
	local addr=$1 port=$2 i
	for ((i = 0; i < 200; i++)); do
		if "${exec[@]}" bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	lib_fail "nothing listens on $addr port $port"
}

# lib_vip IFNAME ADDR/PREFIX: a local VIP on a dummy interface.
lib_vip() {
	local ifname=$1 cidr=$2
	ip link show "$ifname" >/dev/null 2>&1 || ip link add "$ifname" type dummy ||
		lib_fail "dummy $ifname"
	ip link set "$ifname" up
	ip addr add "$cidr" dev "$ifname" nodad 2>/dev/null || ip addr add "$cidr" dev "$ifname" ||
		lib_fail "address $cidr on $ifname"
}

# lib_dest_net [IFNAME]: a dummy interface holding 10.50.0.0/16 and fd00:50::/64, so that
# IPVS accepts destinations there (it refuses a real server it has no route to) without
# any of them having to answer.
lib_dest_net() {
	local ifname=${1:-dst0}
	ip link add "$ifname" type dummy || lib_fail "dummy $ifname"
	ip link set "$ifname" up
	ip addr add 10.50.0.1/16 dev "$ifname"
	ip addr add fd00:50::1/64 dev "$ifname" nodad
}

# lib_ipvsadm ARGS...: ipvsadm with runs of blanks squeezed, for column-proof assertions.
lib_ipvsadm() {
	ipvsadm "$@" | tr -s ' '
}

# lib_who_answers URL COUNT: the sorted set of names answering COUNT fresh connections.
lib_who_answers() {
	local url=$1 count=$2 i
	for ((i = 0; i < count; i++)); do
		curl -sS --max-time 5 "$url" || echo "curl-failed"
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# Waits only for what it stopped: a bare `wait` would also wait for any other background
# job of the scenario (a daemon it started), and hang the VM until its timeout.
lib_cleanup() {
	local pid
	for pid in "${LIB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
}
trap lib_cleanup EXIT
