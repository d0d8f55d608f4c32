# vipd's whole pipeline on real IPVS, run inside the project's VM by
# scripts/run: two backends in network namespaces, vipd checking them and
# programming a VIP, a client, one backend failing and coming back.
set -u
. "$VIPD_SOURCE_DIR/tests/e2e/guest/lib_e2e.sh"
SVC=10.200.0.10:80

lib_modules ip_vs ip_vs_wlc dummy veth
e2e_backend ba a 10.61.1.1 10.61.1.2
e2e_backend bb b 10.61.2.1 10.61.2.2
lib_wait_port ba 10.61.1.2 8080
lib_wait_port bb 10.61.2.2 8080
mkdir -p /tmp/e2e/apps
cp "$VIPD_SOURCE_DIR/examples/vm/apps.json" /tmp/e2e/apps/
cat >/tmp/e2e/vipd.json <<'JSON'
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit.log",
 "lb": {"interface": "vipd0", "drain_seconds": 5, "resync_seconds": 5},
 "dns": {"listen": "127.0.0.1:53"}}
JSON

echo "== vipd -c vipd.json (apps: examples/vm/apps.json, VIPs 10.200.0.10:80 and /web:80)"
e2e_vipd /tmp/e2e/vipd.json
e2e_wait_for "both backends in rotation" 10 bash -c \
	"[[ \$(ipvsadm -Ln -t $SVC | grep -c ' 1 ') -eq 2 ]]"
e2e_wait_for "the name resolves" 10 bash -c \
	"dig +short +time=1 +tries=1 @127.0.0.1 web.marathon.l4lb.thisdcos.directory A | grep -q '^11\\.'"
echo "== ipvsadm -Ln"
ipvsadm -Ln
echo "== the VIPs are local routes through vipd0 (src: the node's address)"
ip route show table local type local dev vipd0
echo "== 10 requests to http://10.200.0.10/ answered by: $(lib_who_answers http://10.200.0.10/ 10)"
echo "== the named VIP /web:80 by its DC/OS name, from vipd's DNS responder"
named=$(dig +short @127.0.0.1 web.marathon.l4lb.thisdcos.directory A)
echo "dig web.marathon.l4lb.thisdcos.directory A -> $named"
echo "== 10 requests to http://web.marathon.l4lb.thisdcos.directory/ ($named) answered by: $(lib_who_answers "http://$named/" 10)"

echo "== backend a starts failing its health check"
touch /tmp/e2e/a.down
e2e_wait_for "a at weight 0" 5 e2e_weight_is $SVC 10.61.1.2:8080 0
ipvsadm -Ln
echo "== 10 requests now answered by: $(lib_who_answers http://10.200.0.10/ 10)"

echo "== backend a recovers"
rm /tmp/e2e/a.down
e2e_wait_for "a back at weight 1" 5 e2e_weight_is $SVC 10.61.1.2:8080 1

e2e_stop_vipd
echo "== the audit log (JSON lines), health transitions and kernel operations:"
grep -E '"event":"(task|ipvs)"' /tmp/e2e/audit.log
echo "demo: done"
