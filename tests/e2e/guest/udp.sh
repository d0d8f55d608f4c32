# Guest side of udp.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

lib_modules ip_vs ip_vs_wlc dummy veth
# UDP echo on 8080, HTTP (with /health) on 8081, in each namespace.
e2e_backend ua a 10.61.1.1 10.61.1.2 --udp
e2e_backend ub b 10.61.2.1 10.61.2.2 --udp
e2e_backend_more ua a 8081
e2e_backend_more ub b 8081
lib_wait_port ua 10.61.1.2 8081
lib_wait_port ub 10.61.2.2 8081

mkdir -p /tmp/e2e/apps
cat >/tmp/e2e/apps/dns.json <<'JSON'
{"id": "/dns",
 "portDefinitions": [{"port": 0, "protocol": "udp", "name": "dns", "labels": {"VIP_0": "10.200.0.20:53"}},
                     {"port": 0, "protocol": "tcp", "name": "health"}],
 "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 1,
   "intervalSeconds": 2, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [{"id": "dns.a", "host": "10.61.1.2", "ports": [8080, 8081], "state": "TASK_RUNNING"},
           {"id": "dns.b", "host": "10.61.2.2", "ports": [8080, 8081], "state": "TASK_RUNNING"}]}
JSON
cat >/tmp/e2e/vipd.json <<'JSON'
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit.log", "reload_seconds": 1,
 "lb": {"interface": "vipd0", "drain_seconds": 30, "resync_seconds": 2}}
JSON
SVC=udp:10.200.0.20:53
A=10.61.1.2:8080 B=10.61.2.2:8080

# udp_who_answers COUNT FIRSTPORT: the sorted set of names answering COUNT
# datagrams to the VIP, each from its own source port (FIRSTPORT, FIRSTPORT+1,
# ...; IPVS keeps a UDP flow per client address and port, so each probe must use
# a port no earlier probe used), "timeout" for a datagram left unanswered.
udp_who_answers() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
count, sport = int(sys.argv[1]), int(sys.argv[2])
names = set()
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.bind(("0.0.0.0", sport + i))
    try:
        s.sendto(b"hello", ("10.200.0.20", 53))
        names.add(s.recv(64).decode().strip())
    except OSError:
        names.add("timeout")
    s.close()
print(" ".join(sorted(names)))
PY
}

e2e_vipd /tmp/e2e/vipd.json
lib_log "both healthy: a UDP service with both dests, datagrams answered by both"
e2e_wait_for "a in rotation" 10 e2e_weight_is $SVC $A 1
e2e_wait_for "b in rotation" 10 e2e_weight_is $SVC $B 1
lib_assert_contains "$(lib_ipvsadm -Ln)" "UDP 10.200.0.20:53 wlc" "ipvsadm: a UDP service for the VIP"
lib_assert_eq "none" "$(e2e_dest_weight 10.200.0.20:53 $A)" "no TCP service for a udp port"
lib_assert_eq "a b" "$(udp_who_answers 20 40000)" "datagrams reach both backends"

lib_log "b's check fails: weight 0, new flows go to a only"
touch /tmp/e2e/b.down
e2e_wait_for "b drained (weight 0)" 5 e2e_weight_is $SVC $B 0
lib_assert_eq 1 "$(e2e_dest_weight $SVC $A)" "a stays in rotation"
lib_assert_eq "a" "$(udp_who_answers 20 41000)" "new flows answered by a only"
lib_assert_contains "$(cat /tmp/e2e/audit.log)" '"op":"edit_dest","service":"UDP 10.200.0.20:53"' "audit: the UDP weight change"

lib_log "b recovers: both answer again"
rm /tmp/e2e/b.down
e2e_wait_for "b back in rotation" 5 e2e_weight_is $SVC $B 1
lib_assert_eq "a b" "$(udp_who_answers 30 42000)" "datagrams reach both backends again"
e2e_stop_vipd
echo "e2e udp: all passed"
