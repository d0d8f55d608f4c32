# Guest side of named.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

lib_modules ip_vs ip_vs_wlc dummy veth
e2e_backend ba a 10.61.1.1 10.61.1.2
e2e_backend bb b 10.61.2.1 10.61.2.2
e2e_backend_more ba a 8081
e2e_backend_more bb b 8081
# node2 reaches the backends through the root namespace, which forwards.
lib_backend_netns node2 10.62.0.1/24 10.62.0.2/24
sysctl -qw net.ipv4.ip_forward=1
lib_wait_port ba 10.61.1.2 8080
lib_wait_port bb 10.61.2.2 8080
lib_wait_port node2 10.61.1.2 8081
lib_wait_port node2 10.61.2.2 8081

web() { e2e_http_app /web /web:80 2 "$(e2e_task web.a 10.61.1.2), $(e2e_task web.b 10.61.2.2)"; }
api() {
	cat <<JSON
{"id": "/api",
 "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "/api:8080"}}],
 "healthChecks": [{"protocol": "TCP", "portIndex": 0,
   "intervalSeconds": 2, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [$(e2e_task api.a 10.61.1.2 8081), $(e2e_task api.b 10.61.2.2 8081)]}
JSON
}
mkdir -p /tmp/e2e/apps1 /tmp/e2e/apps2
web >/tmp/e2e/apps1/web.json
api >/tmp/e2e/apps1/api.json
{ echo '{"apps": ['; api; echo ','; web; echo ']}'; } >/tmp/e2e/apps2/all.json
cat >/tmp/e2e/node1.json <<'JSON'
{"apps": "/tmp/e2e/apps1", "audit_log": "/tmp/e2e/audit1.log", "reload_seconds": 1,
 "lb": {"interface": "vipd0", "drain_seconds": 30, "resync_seconds": 2}}
JSON
cat >/tmp/e2e/node2.json <<'JSON'
{"apps": "/tmp/e2e/apps2", "audit_log": "/tmp/e2e/audit2.log", "reload_seconds": 1,
 "lb": {"interface": "vipn2", "drain_seconds": 30, "resync_seconds": 2}}
JSON

N2=(ip netns exec node2)
e2e_vipd /tmp/e2e/node1.json
# vipd keeps its owned set in /run/vipd/owned.json, a path no setting changes:
# node2's instance gets its own /run/vipd, as a second host would have.
mkdir -p /tmp/e2e/run-node2
"${N2[@]}" unshare -m sh -c 'mount --bind /tmp/e2e/run-node2 /run && exec "$0" -c /tmp/e2e/node2.json' \
	"$VIPD" >>/tmp/e2e/vipd2.log 2>&1 &
VIPD2_PID=$!
LIB_PIDS+=($VIPD2_PID)

# svc_of NODE PORT: the address of the TCP service on PORT in NODE's table (1 or 2).
svc_of() {
	local cmd=(ipvsadm)
	[[ $1 == 2 ]] && cmd=("${N2[@]}" ipvsadm)
	"${cmd[@]}" -Ln | awk -v p=":$2" '$1 == "TCP" && substr($2, length($2) - length(p) + 1) == p { print $2 }'
}
# table NODE: vipd's services and dests in NODE's table, as ipvsadm -Sn lines.
table() {
	local cmd=(ipvsadm)
	[[ $1 == 2 ]] && cmd=("${N2[@]}" ipvsadm)
	"${cmd[@]}" -Sn | grep -E -- ' 11\.' | sort
}
all_in() { # NODE: both dests of both services at weight 1
	[[ $(table "$1" | grep -c -- '-w 1$') == 4 ]]
}

lib_log "both nodes: named VIPs in 11.0.0.0/8, the same address on each node"
e2e_wait_for "node1: both backends of both services in rotation" 15 all_in 1
e2e_wait_for "node2: both backends of both services in rotation" 15 all_in 2
echo "--- node1:"; table 1
echo "--- node2:"; table 2
web1=$(svc_of 1 80) web2=$(svc_of 2 80) api1=$(svc_of 1 8080) api2=$(svc_of 2 8080)
[[ $web1 == 11.*:80 ]] || lib_fail "node1: /web:80 has no single service in 11.0.0.0/8: [$web1]"
[[ $api1 == 11.*:8080 ]] || lib_fail "node1: /api:8080 has no single service in 11.0.0.0/8: [$api1]"
[[ ${web1%:*} != "${api1%:*}" ]] || lib_fail "/web and /api got the same address ${web1%:*}"
lib_assert_eq "$web1" "$web2" "/web:80 has the same address on both nodes"
lib_assert_eq "$api1" "$api2" "/api:8080 has the same address on both nodes"
lib_assert_eq "$(table 1)" "$(table 2)" "both nodes' tables agree"
lib_assert_contains "$(cat /tmp/e2e/audit1.log)" "\"op\":\"add_service\",\"service\":\"TCP $web1\"" "node1 audit: the service of /web:80"
lib_assert_contains "$(cat /tmp/e2e/audit2.log)" "\"op\":\"add_service\",\"service\":\"TCP $web1\"" "node2 audit: the service of /web:80"
lib_assert_contains "$(ip -4 route show table local type local dev vipd0)" "local ${web1%:*} proto static scope host src" "node1: the VIP routed through vipd0"
lib_assert_contains "$("${N2[@]}" ip -4 route show table local type local dev vipn2)" "local ${web1%:*} proto static scope host src" "node2: the VIP routed through vipn2"

# node2_who_answers URL COUNT: as lib_who_answers, from node2 with node2's own
# address chosen as the source. (When vipd bound VIPs as addresses, a client
# connecting to a local VIP got the VIP as its source, and the backends'
# replies went to the root namespace, which held the same VIP; with VIPs as
# local routes whose src is the node's address, the plain client below works.)
node2_who_answers() {
	local i
	for ((i = 0; i < $2; i++)); do
		"${N2[@]}" curl -sS --max-time 5 --interface 10.62.0.2 "$1" || echo "curl-failed"
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}

lib_log "clients on each node reach both backends through their own node"
lib_assert_eq "a b" "$(lib_who_answers "http://$web1/" 20)" "node1: /web reaches both"
lib_assert_eq "a b" "$(node2_who_answers "http://$web1/" 20)" "node2: /web reaches both"
lib_assert_eq "a b" "$(node2_who_answers "http://$api1/" 20)" "node2: /api reaches both"
lib_assert_eq "a b" "$(for ((i = 0; i < 20; i++)); do "${N2[@]}" curl -sS --max-time 5 "http://$web1/" || echo curl-failed; done | sort -u | tr '\n' ' ' | sed 's/ $//')" \
	"node2: /web reaches both with the source its VIP route gives (node2's address, not the VIP)"

lib_log "a fails its /web check: drained on both nodes, the tables still agree"
touch /tmp/e2e/a.down
e2e_wait_for "node1: a drained" 5 e2e_weight_is "$web1" 10.61.1.2:8080 0
E2E_IPVSADM="${N2[*]} ipvsadm" e2e_wait_for "node2: a drained" 5 e2e_weight_is "$web1" 10.61.1.2:8080 0
lib_assert_eq "$(table 1)" "$(table 2)" "both nodes' tables agree"
lib_assert_eq "b" "$(node2_who_answers "http://$web1/" 10)" "node2: /web reaches b only"
lib_assert_eq "b" "$(lib_who_answers "http://$web1/" 10)" "node1: /web reaches b only"

kill -TERM $VIPD2_PID
wait $VIPD2_PID
e2e_stop_vipd
echo "e2e named: all passed"
