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
# weights_everywhere WEIGHT "SERVICE DEST"...: on every node, each DEST of
# SERVICE (TCP) has WEIGHT; one dump per node (ipvsadm in a namespace is
# slow under TCG, and within's measure includes the looking).
weights_everywhere() {
	local w=$1 n t d
	shift
	for n in "${NODES[@]}"; do
		t=$(on "$n" ipvsadm -Sn)
		for d in "$@"; do
			grep -qx -- "-a -t ${d% *} -r ${d#* } -m -w $w" <<<"$t" || return 1
		done
	done
}
# applied_within SECONDS WHAT T0 WEIGHT "SERVICE DEST"...: on every node the
# kernel set each DEST of SERVICE to WEIGHT within SECONDS of T0 (ms), as the
# nodes' audit logs time their applied operations (since MARK); looking with
# ipvsadm from here only bounds the wait (under TCG its own slowness would
# count: three namespaces' dumps take seconds on a loaded host).
applied_within() {
	local secs=$1 what=$2 t0=$3 w=$4 n d line ts last=0 ms
	shift 4
	until_within $((secs * 5)) "$what (seen)" weights_everywhere "$w" "$@"
	for n in "${NODES[@]}"; do
		for d in "$@"; do
			line=$(audit_matching "$n" '"event":"ipvs"' "\"service\":\"TCP ${d% *}\"" "\"dest\":\"${d#* }\"" \
				"\"weight\":$w," '"result":"ok"' | tail -n 1)
			ts=$(sed -n 's/.*"ts":"\([^"]*\)".*/\1/p' <<<"$line")
			[[ -n $ts ]] || lib_fail "$what: n$n's audit log has no applied operation setting ${d#* } of ${d% *} to $w"
			ms=$(date -d "$ts" +%s%3N)
			((ms > last)) && last=$ms
		done
	done
	ms=$((last - t0))
	((ms <= secs * 1000)) || lib_fail "$what: the last node's kernel only after $((ms / 1000)).$((ms % 1000 / 100)) s, more than $secs s"
	echo "ok: $what: every node's kernel within $((ms / 1000)).$((ms % 1000 / 100)) s"
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

lib_log "restarts under load: clients on A, B and C open new connections to /web and /addr; A's vipd restarted (SIGTERM, start at once, as systemctl restart does), then B's"
# load_all_start: on every node, one client per VIP (load.py: one new
# connection per request, one line per outcome) until load_all_stop; a
# second apart, so that six of them leave the guest's one CPU (TCG) to the
# checks and lease keep-alives (a 1 s check timeout, a 3 s lease TTL).
LOADS=()
load_all_start() {
	local n
	rm -f /tmp/e2e/load.stop
	for n in "${NODES[@]}"; do
		# Not through on(): $! must be the client's own pid.
		ip netns exec "n$n" python3 "$E2E_DIR/load.py" "http://$web/" /tmp/e2e/load.stop 1 >"/tmp/e2e/load$n.web" &
		LOADS+=($!)
		ip netns exec "n$n" python3 "$E2E_DIR/load.py" http://10.200.0.10/ /tmp/e2e/load.stop 1 >"/tmp/e2e/load$n.addr" &
		LOADS+=($!)
	done
	LIB_PIDS+=("${LOADS[@]}")
}
load_all_stop() {
	touch /tmp/e2e/load.stop
	wait "${LOADS[@]}"
}
# audit_since NODE MARK: NODE's audit lines after line MARK, stats left out.
audit_since() { tail -n +$(($2 + 1)) "/tmp/e2e/audit$1.log" | grep -v '"event":"stats"'; }
# restart_vipd NODE: SIGTERM (it revokes its lease and leaves its table),
# waited for, then a new vipd at once; MARK[NODE] is where its audit log was.
declare -A MARK
restart_vipd() {
	local n=$1 m
	for m in "${NODES[@]}"; do MARK[$m]=$(wc -l <"/tmp/e2e/audit$m.log"); done
	kill -TERM "${VPID[$n]}"
	wait "${VPID[$n]}"
	lib_assert_eq 0 "$?" "n$n: vipd's exit status after SIGTERM"
	vipd_start "$n"
}
# every_backend_everywhere: each node's table has every backend in rotation.
every_backend_everywhere() {
	weights_everywhere 1 "$web $WA" "$web $WB" "10.200.0.10:80 $WA" "10.200.0.10:80 $WB" "$solo $WA"
}
# until_within SECONDS WHAT CMD...: until CMD holds, bounded in wall time
# (e2e_wait_for counts 0.1 s steps, and each step here runs ipvsadm in three
# namespaces); else the tables and fail.
until_within() {
	local secs=$1 what=$2 t0=$SECONDS n
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - t0 > secs)); then
			for n in "${NODES[@]}"; do echo "--- n$n:"; on "$n" ipvsadm -Ln; done
			lib_fail "$what: not within $secs s"
		fi
		sleep 0.2
	done
	echo "ok: $what (after about $((SECONDS - t0)) s)"
}
# audit_matching NODE STRING...: NODE's audit lines since its mark that
# contain every STRING (in any order).
audit_matching() {
	local n=$1 lines
	shift
	lines=$(audit_since "$n" "${MARK[$n]}")
	while (($# > 0)); do
		lines=$(grep -F -- "$1" <<<"$lines")
		shift
	done
	[[ -n $lines ]] && echo "$lines"
}
# no_ops_on NODE WHAT STRING...: NODE made no IPVS dest or service operation
# (containing every STRING) since its mark.
no_ops_on() {
	local n=$1 what=$2 ops
	shift 2
	ops=$(audit_matching "$n" '"event":"ipvs"' "$@" | grep -E '"op":"(add|del|edit)_(dest|service)"')
	[[ -z $ops ]] || lib_fail "n$n: $what: $(head -n 3 <<<"$ops")"
	echo "ok: n$n: $what"
}
# kept NODE WHAT DEST EXCUSE...: NODE made no operation on DEST since its
# mark, unless the command EXCUSE holds (asked after reading the
# operations, so that a failure logged before them counts).
kept() {
	local n=$1 what=$2 d=$3 ops
	shift 3
	ops=$(audit_matching "$n" '"event":"ipvs"' "\"dest\":\"$d\"" | grep -E '"op":"(add|del|edit)_(dest|service)"')
	if [[ -z $ops ]]; then
		echo "ok: n$n: $what"
	elif "$@"; then
		echo "note: n$n: $d changed since the restart, after a failed check or lease ($*)"
	else
		lib_fail "n$n: $what: $(head -n 3 <<<"$ops")"
	fi
}
# remote_failed NODE DEST: NODE learnt since its mark that the other node's
# DEST failed its check or that node's lease expired.
remote_failed() {
	audit_matching "$1" '"event":"cluster_backend"' "\"backend\":\"$2\"" '"health":"unhealthy"' >/dev/null ||
		audit_matching "$1" '"event":"cluster_backend"' "\"backend\":\"$2\"" '"change":"expired"' >/dev/null
}
own_check_failed() { # NODE
	audit_matching "$1" '"event":"check"' '"to":"unhealthy"' >/dev/null
}
# table_kept NODE REMOTE LOCAL: NODE, restarted, changed no service and not
# the other nodes' backend REMOTE in its table (it keeps them until it has
# read etcd, which has them); nor its own LOCAL. Unless a check or a lease
# failed meanwhile (the host's load can make a 1 s check timeout or the 3 s
# lease TTL expire under TCG): then the change is that failure's.
table_kept() {
	local n=$1
	no_ops_on "$n" "restarted, it changed no service" '_service"'
	kept "$n" "restarted, it kept the other nodes' backend $2 as it was" "$2" remote_failed "$n" "$2"
	kept "$n" "restarted, it kept its own backend $3 as it was" "$3" own_check_failed "$n"
}
# restarted NODE OTHER OTHER: NODE, restarted, is back in etcd (the others
# saw its /web backend expire with the revoked lease and come back: as
# "changed" when its backend key came before its live/ key, as "appeared"
# after the expired record left with "node_back" otherwise) and every
# node's table has every backend again.
back_after_expiry() { # OTHER NODE
	audit_matching "$1" '"event":"cluster_backend"' '"change":"changed"' "\"node\":\"$2\"" '"vip":"/web:80"' >/dev/null ||
		audit_matching "$1" '"event":"cluster_backend"' '"change":"appeared"' "\"node\":\"$2\"" '"vip":"/web:80"' >/dev/null
}
restarted() {
	local n=$1 o
	shift
	audit_matching "$n" '"event":"cluster_etcd"' '"state":"connected"' >/dev/null || return 1
	for o in "$@"; do
		audit_matching "$o" '"event":"cluster_backend"' '"change":"expired"' "\"node\":\"$n\"" '"vip":"/web:80"' >/dev/null &&
			back_after_expiry "$o" "$n" || return 1
	done
	every_backend_everywhere
}
# expect_audit NODE WHAT STRING...: NODE audited a line with every STRING.
expect_audit() {
	local n=$1 what=$2
	shift 2
	audit_matching "$n" "$@" >/dev/null || lib_fail "n$n: $what: no audit line with $*"
	echo "ok: n$n: $what"
}
load_all_start
sleep 2
restart_vipd A
until_within 40 "A restarted: back in etcd, every backend in rotation on every node" restarted A B C
table_kept A $WB $WA
for n in B C; do
	expect_audit $n "A's /web backend left when A revoked its lease" \
		'"event":"cluster_backend"' '"change":"expired"' '"node":"A"' '"vip":"/web:80"'
	expect_audit $n "A's /web backend out of rotation (weight 0)" \
		'"event":"ipvs"' "\"service\":\"TCP $web\"" "\"dest\":\"$WA\"" '"weight":0'
	expect_audit $n "/solo's only backend (on A) kept while A restarted" \
		'"event":"cluster_rule"' '"vip":"/solo:80"' '"rule":"expired_kept_last_backends"'
	ops=$(audit_matching $n '"event":"ipvs"' "\"service\":\"TCP $solo\"" "\"dest\":\"$WA\"" | grep '"op":"')
	if [[ -z $ops ]]; then
		echo "ok: n$n: /solo's only backend a never left rotation"
	elif audit_matching A '"event":"check"' '"task":"solo.a"' '"to":"unhealthy"' >/dev/null; then
		echo "note: n$n: /solo's backend changed after solo.a's check failed on A"
	else
		lib_fail "n$n: /solo's only backend a left rotation: $(head -n 3 <<<"$ops")"
	fi
done
sleep 2
restart_vipd B
until_within 40 "B restarted: back in etcd, every backend in rotation on every node" restarted B A C
table_kept B $WA $WB
for n in A C; do
	expect_audit $n "B's /web backend left when B revoked its lease" \
		'"event":"cluster_backend"' '"change":"expired"' '"node":"B"' '"vip":"/web:80"'
	expect_audit $n "B's /web backend out of rotation (weight 0)" \
		'"event":"ipvs"' "\"service\":\"TCP $web\"" "\"dest\":\"$WB\"" '"weight":0'
done
sleep 1
load_all_stop
for n in "${NODES[@]}"; do
	for v in web addr; do
		f=/tmp/e2e/load$n.$v
		echo "n$n /$v: $(wc -l <"$f") requests, answers:$(sort "$f" | uniq -c | tr -s ' ' | tr '\n' ' ')"
		(($(wc -l <"$f") >= 10)) || lib_fail "n$n /$v: the load made fewer than 10 requests"
		lib_assert_eq 0 "$(grep -c -v -x -E 'a|b' "$f")" "n$n /$v: no failed request of $(wc -l <"$f") ($(grep -m 3 FAIL "$f"))"
	done
done
lib_assert_eq "$(on A ipvsadm -Sn | sort)" "$(on C ipvsadm -Sn | sort)" "after the restarts: A's and C's tables agree"
lib_assert_eq "$(on B ipvsadm -Sn | sort)" "$(on C ipvsadm -Sn | sort)" "after the restarts: B's and C's tables agree"

lib_log "a fails its checks on A: out of rotation on A, B and C within interval + timeout + 1 s ($((INTERVAL + 2)) s)"
for n in "${NODES[@]}"; do MARK[$n]=$(wc -l <"/tmp/e2e/audit$n.log"); done
t0=$(date +%s%3N)
touch /tmp/e2e/a.down
applied_within $((INTERVAL + 1 + 1)) "/web and /addr: a at weight 0 on every node" "$t0" 0 "$web $WA" "10.200.0.10:80 $WA"
lib_assert_eq "b" "$(who_answers_c "http://$web/" 10)" "C: /web reaches b only"
rm /tmp/e2e/a.down
e2e_wait_for "a back in rotation on every node" 10 eval 'all_weights $web $WA 1 && all_weights 10.200.0.10:80 $WA 1 && all_weights $solo $WA 1'

lib_log "kill -9 of A's vipd: its backends out of rotation on B and C (weight 0, draining) within the lease TTL ($TTL s) + 2 s, /solo's only one stays"
killed_at=$(wc -l </tmp/e2e/auditC.log)
kill -9 "${VPID[A]}"
within $((TTL + 2)) "/web and /addr: a out of rotation on B and C" \
	eval 'out_on B $web $WA && out_on C $web $WA && out_on B 10.200.0.10:80 $WA && out_on C 10.200.0.10:80 $WA'
for n in B C; do echo "n$n: /web a weight $(weight "$n" "$web" "$WA")"; done
lib_assert_eq 1 "$(weight B "$solo" "$WA")" "B: /solo keeps its only backend a"
lib_assert_eq 1 "$(weight C "$solo" "$WA")" "C: /solo keeps its only backend a"
lib_assert_contains "$(tail -n +$((killed_at + 1)) /tmp/e2e/auditC.log | grep '"event":"cluster_rule"')" '"rule":"expired_kept_last_backends"' "C's audit: /solo's expired backend kept as its last"
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
