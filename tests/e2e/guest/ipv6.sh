# Guest side of ipv6.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

lib_modules ip_vs ip_vs_wlc dummy veth
e2e_backend6 ba a 10.61.1.1 10.61.1.2 fd00:61:1::1 fd00:61:1::2
e2e_backend6 bb b 10.61.2.1 10.61.2.2 fd00:61:2::1 fd00:61:2::2
lib_wait_port ba fd00:61:1::2 8080
lib_wait_port bb fd00:61:2::2 8080

mkdir -p /tmp/e2e/apps
e2e_http_app /web6 '[fd00:200::10]:80' 2 "$(e2e_task web6.a fd00:61:1::2), $(e2e_task web6.b fd00:61:2::2)" \
	>/tmp/e2e/apps/web6.json
cat >/tmp/e2e/vipd.json <<'JSON'
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit.log", "reload_seconds": 1,
 "lb": {"interface": "vipd0", "drain_seconds": 30, "resync_seconds": 2}}
JSON
SVC='[fd00:200::10]:80'
A='[fd00:61:1::2]:8080' B='[fd00:61:2::2]:8080'

# who_answers6 COUNT: the sorted set of names answering COUNT fresh connections to the VIP.
who_answers6() {
	local i
	for ((i = 0; i < $1; i++)); do
		curl -g -sS --max-time 5 'http://[fd00:200::10]/' || echo "curl-failed"
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}

e2e_vipd /tmp/e2e/vipd.json
lib_log "both healthy: an IPv6 service with both dests, the VIP bound, both reached"
e2e_wait_for "a in rotation" 10 e2e_weight_is "$SVC" "$A" 1
e2e_wait_for "b in rotation" 10 e2e_weight_is "$SVC" "$B" 1
lib_assert_contains "$(lib_ipvsadm -Ln)" "TCP [fd00:200::10]:80 wlc" "ipvsadm: an IPv6 service for the VIP"
lib_assert_contains "$(ip -6 route show table local type local dev vipd0)" "local fd00:200::10 proto static" "VIP routed"
lib_assert_eq "a b" "$(who_answers6 20)" "curl -g 'http://[fd00:200::10]/' reaches both backends"

lib_log "a's check fails: drained, new connections go to b only"
touch /tmp/e2e/a.down
e2e_wait_for "a drained (weight 0)" 5 e2e_weight_is "$SVC" "$A" 0
lib_assert_eq 1 "$(e2e_dest_weight "$SVC" "$B")" "b stays in rotation"
lib_assert_eq "b" "$(who_answers6 20)" "new connections go to b only"
lib_assert_contains "$(cat /tmp/e2e/audit.log)" '"task":"web6.a","from":"healthy","to":"unhealthy"' "audit: a's transition"
lib_assert_contains "$(cat /tmp/e2e/audit.log)" '"op":"edit_dest","service":"TCP [fd00:200::10]:80"' "audit: the weight change"

lib_log "a recovers: both reached again"
rm /tmp/e2e/a.down
e2e_wait_for "a back in rotation" 5 e2e_weight_is "$SVC" "$A" 1
lib_assert_contains "$(who_answers6 30)" "a" "new connections reach a again"
e2e_stop_vipd
echo "e2e ipv6: all passed"
