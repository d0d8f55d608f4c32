# Guest side of dns.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

lib_modules ip_vs ip_vs_wlc dummy veth
ip link set lo up
e2e_backend da a 10.62.1.1 10.62.1.2
e2e_backend db b 10.62.2.1 10.62.2.2
lib_wait_port da 10.62.1.2 8080
lib_wait_port db 10.62.2.2 8080
touch /tmp/e2e/b.down # b fails its health check from the start

mkdir -p /tmp/e2e/apps
e2e_http_app /web /web:80 1 "$(e2e_task web.a 10.62.1.2), $(e2e_task web.b 10.62.2.2)" http \
	>/tmp/e2e/apps/web.json
cat >/tmp/e2e/vipd.json <<'JSON'
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit.log", "reload_seconds": 1,
 "lb": {"interface": "vipd0", "drain_seconds": 2, "resync_seconds": 2},
 "dns": {"listen": "127.0.0.1:53"}}
JSON
NAME=web.marathon.l4lb.thisdcos.directory
dig_short() { dig @127.0.0.1 -p 53 +time=1 +tries=1 +short "$@" 2>/dev/null; }
resolves() { dig_short "$NAME" A | grep -q '^11\.'; }

# Every answer seen while vipd starts must name a service the kernel has.
e2e_vipd /tmp/e2e/vipd.json
for ((i = 0; i < 150; i++)); do
	addr=$(dig_short "$NAME" A | grep '^11\.' || true)
	if [[ -n $addr ]]; then
		ipvsadm -Ln -t "$addr:80" >/dev/null 2>&1 || lib_fail "$NAME answered $addr before its IPVS service existed"
		break
	fi
	sleep 0.1
done
[[ -n $addr ]] || { tail -n 30 /tmp/e2e/vipd.log; lib_fail "$NAME never resolved"; }
lib_log "$NAME resolves to $addr, and TCP $addr:80 is in the kernel"
lib_assert_contains "$(ip -4 route show table local type local dev vipd0)" "local $addr proto static" "VIP routed"
lib_assert_eq "0 1 80 $NAME." "$(dig_short "_http._tcp.$NAME" SRV)" "SRV record"
lib_assert_contains "$(dig @127.0.0.1 nope.marathon.l4lb.thisdcos.directory A)" "status: NXDOMAIN" "unknown name"
lib_assert_contains "$(dig @127.0.0.1 +tcp "$NAME" A)" "$addr" "the same answer over TCP"

lib_log "the client: resolve, connect to the answer, land on the healthy backend"
e2e_wait_for "a in rotation" 10 e2e_weight_is "$addr:80" 10.62.1.2:8080 1
lib_assert_eq 0 "$(e2e_dest_weight "$addr:80" 10.62.2.2:8080 | sed 's/none/0/')" "b, failing its check, takes no connection"
lib_assert_eq "a" "$(lib_who_answers "http://$(dig_short "$NAME" A)/" 20)" "every connection through the name lands on a"

lib_log "the app goes: the name stops resolving, and the service goes"
rm /tmp/e2e/apps/web.json
e2e_wait_for "NXDOMAIN for $NAME" 10 bash -c "dig @127.0.0.1 +time=1 +tries=1 $NAME A | grep -q 'status: NXDOMAIN'"
e2e_wait_for "service removed" 10 bash -c "! ipvsadm -Ln -t $addr:80"
e2e_stop_vipd
echo "e2e dns: all passed"
