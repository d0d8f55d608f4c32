# Guest side of cluster.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

TTL=3
INTERVAL=2 # the checks' interval; their timeout is 1 s
NODES=(A B C)
declare -A ADDR=([A]=10.70.0.1 [B]=10.70.0.2 [C]=10.70.0.3) VPID EPID
BR=10.70.0.254
ENDPOINTS='"http://10.70.0.254:2379", "http://10.70.0.254:2381", "http://10.70.0.254:2383"'

lib_modules ip_vs ip_vs_wlc dummy veth bridge
ip link set lo up

# The nodes: one namespace each, on the bridge br0 (the root namespace, which
# runs etcd, holds 10.70.0.254 and is each node's default route).
ip link add br0 type bridge || lib_fail "bridge"
ip addr add $BR/24 dev br0
ip link set br0 up
for n in "${NODES[@]}"; do
	ip netns add "n$n" || lib_fail "ip netns add n$n"
	ip link add "v$n" type veth peer name "p$n" || lib_fail "veth for n$n"
	ip link set "v$n" master br0 up
	ip link set "p$n" netns "n$n"
	ip -n "n$n" link set lo up
	ip -n "n$n" addr add "${ADDR[$n]}/24" dev "p$n"
	ip -n "n$n" link set "p$n" up
	ip -n "n$n" route add default via $BR
done
# C's VIP routes take the address lb.source_address names, not the default one.
SRC_C=10.70.0.13
ip -n nC addr add $SRC_C/24 dev pC
on() { # NODE CMD...: CMD in NODE's namespace
	local n=$1
	shift
	ip netns exec "n$n" "$@"
}

# etcd: three members, peers on the guest's loopback, clients on the bridge.
etcd_start() { # MEMBER (1-3)
	local i=$1 c=$((2377 + 2 * $1)) p=$((2378 + 2 * $1))
	etcd --name "e$i" --data-dir "/tmp/e2e/etcd$i" \
		--listen-client-urls "http://$BR:$c" --advertise-client-urls "http://$BR:$c" \
		--listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
		--initial-cluster "e1=http://127.0.0.1:2380,e2=http://127.0.0.1:2382,e3=http://127.0.0.1:2384" \
		--heartbeat-interval 200 --election-timeout 2000 >>"/tmp/e2e/etcd$i.log" 2>&1 &
	EPID[$i]=$!
	LIB_PIDS+=($!)
}
etcd_healthy() {
	local i
	for i in 1 2 3; do
		curl -s --max-time 2 "http://$BR:$((2377 + 2 * i))/health" | grep -q '"health":"true"' || return 1
	done
}
for i in 1 2 3; do etcd_start $i; done

# The backends: a on A, b on B, each the task of /web (named VIP), /addr
# (address VIP) and, for a only, /solo (named VIP whose only backend is on A).
ip netns exec nA python3 "$E2E_DIR/backend.py" a 8080 &
LIB_PIDS+=($!)
ip netns exec nB python3 "$E2E_DIR/backend.py" b 8080 &
LIB_PIDS+=($!)
mkdir -p /tmp/e2e/apps
e2e_http_app /web /web:80 $INTERVAL "$(e2e_task web.a ${ADDR[A]}), $(e2e_task web.b ${ADDR[B]})" >/tmp/e2e/apps/web.json
e2e_http_app /addr 10.200.0.10:80 $INTERVAL "$(e2e_task addr.a ${ADDR[A]}), $(e2e_task addr.b ${ADDR[B]})" >/tmp/e2e/apps/addr.json
e2e_http_app /solo /solo:80 $INTERVAL "$(e2e_task solo.a ${ADDR[A]})" >/tmp/e2e/apps/solo.json
lib_wait_port nA ${ADDR[A]} 8080
lib_wait_port nB ${ADDR[B]} 8080
e2e_wait_for "etcd: three members healthy" 40 etcd_healthy

vipd_start() { # NODE
	local n=$1 dns="" src=""
	[[ $n == C ]] && dns=', "dns": {"listen": "127.0.0.1:53"}' src="\"source_address\": \"$SRC_C\", "
	cat >"/tmp/e2e/node$n.json" <<JSON
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit$n.log", "reload_seconds": 1,
 "lb": {$src"interface": "vipd0", "state_file": "/tmp/e2e/owned$n.json", "drain_seconds": 60,
        "resync_seconds": 2},
 "cluster": {"node": "$n", "hosts": ["${ADDR[$n]}"], "endpoints": [$ENDPOINTS],
             "lease_ttl": $TTL}$dns}
JSON
	# Not through on(): $! must be vipd's own pid (ip netns exec execs it).
	ip netns exec "n$n" "$VIPD" -c "/tmp/e2e/node$n.json" >>"/tmp/e2e/vipd$n.log" 2>&1 &
	VPID[$n]=$!
	LIB_PIDS+=($!)
}
for n in "${NODES[@]}"; do vipd_start "$n"; done

NAME=web.marathon.l4lb.thisdcos.directory
SOLO=solo.marathon.l4lb.thisdcos.directory
dig_c() { on C dig @127.0.0.1 -p 53 +time=1 +tries=1 +short "$@" 2>/dev/null; }
weight() { # NODE SERVICE DEST
	E2E_IPVSADM="ip netns exec n$1 ipvsadm" e2e_dest_weight "$2" "$3"
}
all_weights() { # SERVICE DEST WEIGHT: on every node
	local n
	for n in "${NODES[@]}"; do [[ $(weight "$n" "$1" "$2") == "$3" ]] || return 1; done
}
# out_on NODE SERVICE DEST: out of rotation there: weight 0 (draining, as
# lb.drain_seconds keeps it) or gone.
out_on() {
	local w
	w=$(weight "$1" "$2" "$3")
	[[ $w == 0 || $w == none ]]
}
# within SECONDS WHAT CMD...: CMD holds within SECONDS of wall time (ipvsadm in
# three namespaces under TCG is not free: e2e_wait_for's count of 0.1 s steps
# would undercount), else fail; says how long it took.
within() {
	local secs=$1 what=$2 t0 t
	shift 2
	t0=$(date +%s%N)
	while :; do
		"$@" >/dev/null 2>&1 && break
		t=$((($(date +%s%N) - t0) / 1000000))
		((t > secs * 1000)) && {
			for n in "${NODES[@]}"; do echo "--- n$n:"; on "$n" ipvsadm -Ln; done
			lib_fail "$what: not within $secs s"
		}
		sleep 0.1
	done
	t=$((($(date +%s%N) - t0) / 1000000))
	((t <= secs * 1000)) || lib_fail "$what: only after $((t / 1000)).$((t % 1000 / 100)) s, more than $secs s"
	echo "ok: $what (after $((t / 1000)).$((t % 1000 / 100)) s)"
}
who_answers_c() { # URL COUNT: who answers from C
	local i
	for ((i = 0; i < $2; i++)); do
		on C curl -sS --max-time 5 "$1" || echo "curl-failed"
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}

lib_log "three nodes: every VIP with the backends of A and B in every table"
WA=${ADDR[A]}:8080 WB=${ADDR[B]}:8080
e2e_wait_for "C's responder answers $NAME" 40 eval '[[ $(dig_c $NAME A) == 11.* ]]'
web=$(dig_c $NAME A):80
solo=$(dig_c $SOLO A):80
[[ $solo == 11.*:80 ]] || lib_fail "$SOLO did not resolve: [$solo]"
e2e_wait_for "/web: a and b in rotation on A, B and C" 20 eval 'all_weights $web $WA 1 && all_weights $web $WB 1'
e2e_wait_for "/addr: a and b in rotation on A, B and C" 10 eval 'all_weights 10.200.0.10:80 $WA 1 && all_weights 10.200.0.10:80 $WB 1'
e2e_wait_for "/solo: a in rotation on A, B and C" 10 all_weights "$solo" "$WA" 1
for n in A B; do
	lib_assert_contains "$(on "$n" ip -4 route show table local type local dev vipd0)" \
		"local ${web%:*} proto static scope host src ${ADDR[$n]}" "n$n: /web's VIP routed with src ${ADDR[$n]} (its default route's)"
done
lib_assert_contains "$(on C ip -4 route show table local type local dev vipd0)" \
	"local ${web%:*} proto static scope host src $SRC_C" "nC: /web's VIP routed with src $SRC_C (lb.source_address)"
lib_assert_eq "$(on A ipvsadm -Sn | sort)" "$(on C ipvsadm -Sn | sort)" "A's and C's tables agree"
lib_assert_eq "$(on B ipvsadm -Sn | sort)" "$(on C ipvsadm -Sn | sort)" "B's and C's tables agree"

lib_log "from C: both VIPs reach the backends on A and B, balanced"
lib_assert_eq "a b" "$(who_answers_c "http://$web/" 20)" "C: /web by its DNS name ($NAME = ${web%:*}) reaches a and b"
lib_assert_eq "a b" "$(who_answers_c "http://10.200.0.10/" 20)" "C: /addr by address reaches a and b"
lib_assert_eq "a" "$(who_answers_c "http://$solo/" 4)" "C: /solo reaches a"
# wlc over short connections: near alternation, not exactly (connections age
# out of the inactive count at their own pace).
spread=$(for ((i = 0; i < 20; i++)); do on C curl -sS --max-time 5 "http://10.200.0.10/"; done |
	awk '{ c[$1]++ } END { print (c["a"] >= 5 && c["b"] >= 5) ? "both" : "a " c["a"] ", b " c["b"] }')
lib_assert_eq "both" "$spread" "C: /addr balanced: a and b each answer at least 5 of 20 new connections"

lib_log "a fails its checks on A: out of rotation on A, B and C within interval + timeout + 1 s ($((INTERVAL + 2)) s)"
touch /tmp/e2e/a.down
within $((INTERVAL + 1 + 1)) "/web and /addr: a at weight 0 on every node" \
	eval 'all_weights $web $WA 0 && all_weights 10.200.0.10:80 $WA 0'
lib_assert_eq "b" "$(who_answers_c "http://$web/" 10)" "C: /web reaches b only"
rm /tmp/e2e/a.down
e2e_wait_for "a back in rotation on every node" 10 eval 'all_weights $web $WA 1 && all_weights 10.200.0.10:80 $WA 1 && all_weights $solo $WA 1'

lib_log "kill -9 of A's vipd: its backends out of rotation on B and C (weight 0, draining) within the lease TTL ($TTL s) + 2 s, /solo's only one stays"
kill -9 "${VPID[A]}"
within $((TTL + 2)) "/web and /addr: a out of rotation on B and C" \
	eval 'out_on B $web $WA && out_on C $web $WA && out_on B 10.200.0.10:80 $WA && out_on C 10.200.0.10:80 $WA'
for n in B C; do echo "n$n: /web a weight $(weight "$n" "$web" "$WA")"; done
lib_assert_eq 1 "$(weight B "$solo" "$WA")" "B: /solo keeps its only backend a"
lib_assert_eq 1 "$(weight C "$solo" "$WA")" "C: /solo keeps its only backend a"
lib_assert_contains "$(grep '"event":"cluster_rule"' /tmp/e2e/auditC.log)" '"rule":"expired_kept_last_backends"' "C's audit: /solo's expired backend kept as its last"
lib_assert_eq "b" "$(who_answers_c "http://10.200.0.10/" 10)" "C: /addr reaches b only"

lib_log "etcd: one member stopped changes nothing; all stopped, no table changes; restarted, they converge"
tables() { on B ipvsadm -Sn | sort; echo; on C ipvsadm -Sn | sort; }
before=$(tables)
kill -TERM "${EPID[1]}"
wait "${EPID[1]}"
sleep 4
lib_assert_eq "$before" "$(tables)" "one member stopped: B's and C's tables unchanged"
touch /tmp/e2e/b.down
within 5 "one member stopped: b's failing check still reaches C (weight 0)" eval '[[ $(weight C 10.200.0.10:80 $WB) == 0 ]]'
rm /tmp/e2e/b.down
within 5 "b back in rotation on C" eval '[[ $(weight C 10.200.0.10:80 $WB) == 1 ]]'
before=$(tables)
for i in 2 3; do kill -TERM "${EPID[$i]}"; done
for i in 2 3; do wait "${EPID[$i]}"; done
sleep $((2 * TTL))
lib_assert_eq "$before" "$(tables)" "all members stopped for twice the lease TTL: B's and C's tables unchanged"
touch /tmp/e2e/b.down
within 5 "etcd down: B still applies its own check (b at weight 0 on B)" eval '[[ $(weight B 10.200.0.10:80 $WB) == 0 ]]'
lib_assert_eq 1 "$(weight C 10.200.0.10:80 "$WB")" "etcd down: C cannot learn it (b still at weight 1 on C)"
for i in 1 2 3; do etcd_start $i; done
e2e_wait_for "etcd: three members healthy again" 40 etcd_healthy
within 20 "etcd back: C converges (b at weight 0 on C)" eval '[[ $(weight C 10.200.0.10:80 $WB) == 0 ]]'
rm /tmp/e2e/b.down
within 10 "b back in rotation on B and C" eval '[[ $(weight B 10.200.0.10:80 $WB) == 1 && $(weight C 10.200.0.10:80 $WB) == 1 ]]'

for n in B C; do kill -TERM "${VPID[$n]}"; done
for n in B C; do wait "${VPID[$n]}"; done
echo "e2e cluster: all passed"
