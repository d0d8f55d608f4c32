# Helpers shared by the e2e guest scripts (on top of tests/vm/lib.sh).
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
E2E_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
VIPD=$VIPD_BUILD_DIR/vipd
mkdir -p /tmp/e2e

# e2e_backend NS NAME HOSTIP NSIP [--udp]: a namespace with a backend on port 8080.
e2e_backend() {
	local ns=$1 name=$2 host_ip=$3 ns_ip=$4
	shift 4
	lib_backend_netns "$ns" "$host_ip/24" "$ns_ip/24"
	ip netns exec "$ns" python3 "$E2E_DIR/backend.py" "$name" 8080 "$@" &
	LIB_PIDS+=($!)
}

# e2e_vipd CONFIG: start vipd in the background, its log in /tmp/e2e/vipd.log.
e2e_vipd() {
	"$VIPD" -c "$1" >>/tmp/e2e/vipd.log 2>&1 &
	VIPD_PID=$!
	LIB_PIDS+=($VIPD_PID)
}

e2e_stop_vipd() {
	kill -TERM "$VIPD_PID" 2>/dev/null
	wait "$VIPD_PID"
}

# e2e_wait_for WHAT SECONDS CMD...: until CMD succeeds (bounded), else fail.
e2e_wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && {
			echo "ok: $what (after $((i / 10)).$((i % 10)) s)"
			return 0
		}
		sleep 0.1
	done
	echo "--- ipvsadm -Ln:"; ipvsadm -Ln
	echo "--- vipd log:"; tail -n 30 /tmp/e2e/vipd.log
	lib_fail "$what: not within $secs s"
}

# e2e_dest_weight SERVICE DEST: the weight ipvsadm shows, or "none".
e2e_dest_weight() {
	ipvsadm -Ln -t "$1" 2>/dev/null | awk -v d="$2" '$2 == d { print $4; f = 1 } END { if (!f) print "none" }'
}

e2e_weight_is() { # SERVICE DEST WEIGHT
	[[ $(e2e_dest_weight "$1" "$2") == "$3" ]]
}
