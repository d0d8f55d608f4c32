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

# e2e_backend6 NS NAME HOSTIP NSIP HOSTIP6 NSIP6 [--udp]: as e2e_backend, with IPv6 addresses
# (/64) on the veth pair too; the backend listens on both families (::).
e2e_backend6() {
	local ns=$1 name=$2 host_ip=$3 ns_ip=$4 host6=$5 ns6=$6
	shift 6
	lib_backend_netns "$ns" "$host_ip/24" "$ns_ip/24" "$host6/64" "$ns6/64"
	ip netns exec "$ns" python3 "$E2E_DIR/backend.py" "$name" 8080 :: "$@" &
	LIB_PIDS+=($!)
}

# e2e_backend_more NS NAME PORT [ARGS...]: one more backend.py in an existing namespace.
e2e_backend_more() {
	local ns=$1 name=$2 port=$3
	shift 3
	ip netns exec "$ns" python3 "$E2E_DIR/backend.py" "$name" "$port" "$@" &
	LIB_PIDS+=($!)
}

# e2e_two_backends [MODULE...]: the IPVS modules (and MODULEs), backends a and b
# on port 8080 in namespaces ba (10.61.1.2) and bb (10.61.2.2), both listening.
e2e_two_backends() {
	lib_modules ip_vs ip_vs_wlc dummy veth "$@"
	e2e_backend ba a 10.61.1.1 10.61.1.2
	e2e_backend bb b 10.61.2.1 10.61.2.2
	lib_wait_port ba 10.61.1.2 8080
	lib_wait_port bb 10.61.2.2 8080
}

# e2e_task ID HOST [PORT]: a running task's JSON (port 8080 by default).
e2e_task() {
	printf '{"id": "%s", "host": "%s", "ports": [%s], "state": "TASK_RUNNING"}' "$1" "$2" "${3:-8080}"
}

# e2e_http_app ID VIP INTERVAL TASKS_JSON [PORT_NAME]: on stdout, an app with one
# port labelled VIP_0=VIP and an HTTP check of /health every INTERVAL s
# (timeout 1 s, no grace, no delay), with the tasks TASKS_JSON.
e2e_http_app() {
	local name=""
	[[ -n ${5:-} ]] && name="\"name\": \"$5\", "
	cat <<JSON
{"id": "$1",
 "portDefinitions": [{"port": 0, "protocol": "tcp", $name"labels": {"VIP_0": "$2"}}],
 "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
   "intervalSeconds": $3, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [$4]}
JSON
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

# e2e_dest_weight SERVICE DEST: the weight ipvsadm shows, or "none". SERVICE is
# ADDR:PORT (TCP) or udp:ADDR:PORT; IPv6 as [ADDR]:PORT. E2E_IPVSADM (default
# ipvsadm) is the command asked, e.g. "ip netns exec node2 ipvsadm".
e2e_dest_weight() {
	local flag=-t svc=$1
	[[ $svc == udp:* ]] && flag=-u svc=${svc#udp:}
	${E2E_IPVSADM:-ipvsadm} -Ln $flag "$svc" 2>/dev/null |
		awk -v d="$2" '$2 == d { print $4; f = 1 } END { if (!f) print "none" }'
}

e2e_weight_is() { # SERVICE DEST WEIGHT
	[[ $(e2e_dest_weight "$1" "$2") == "$3" ]]
}

# On failure, the audit logs and vipd's log (before lib.sh's cleanup).
e2e_on_exit() {
	local rc=$? f
	if [[ $rc -ne 0 ]]; then
		for f in /tmp/e2e/audit*.log; do
			[[ -e $f ]] || continue
			echo "--- $f (last 40 lines but stats):"
			grep -v '"event":"stats"' "$f" | tail -n 40
		done
		for f in /tmp/e2e/vipd*.log; do
			[[ -e $f ]] || continue
			echo "--- $f (last 20 lines):"
			tail -n 20 "$f"
		done
	fi
	lib_cleanup
}
trap e2e_on_exit EXIT
