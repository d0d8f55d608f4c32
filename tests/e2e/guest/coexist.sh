# Guest side of coexist.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

e2e_two_backends ip_vs_rr ip_vs_sh

lib_log "foreign services made with ipvsadm before vipd starts"
ipvsadm -A -t 10.99.0.1:80 -s rr || lib_fail "ipvsadm -A 10.99.0.1:80"
ipvsadm -a -t 10.99.0.1:80 -r 10.61.1.2:8080 -m -w 3 || lib_fail "ipvsadm -a 10.99.0.1:80"
# On the address of vipd's VIP, another port: vipd must not take it for its own.
ipvsadm -A -t 10.200.0.10:443 -s sh || lib_fail "ipvsadm -A 10.200.0.10:443"
ipvsadm -a -t 10.200.0.10:443 -r 10.61.2.2:8080 -m -w 2 || lib_fail "ipvsadm -a 10.200.0.10:443"
# The VIP's address and port, another protocol (the VIP is TCP only).
ipvsadm -A -u 10.200.0.10:80 -s rr || lib_fail "ipvsadm -A -u 10.200.0.10:80"
ipvsadm -a -u 10.200.0.10:80 -r 10.61.1.2:8080 -m -w 5 || lib_fail "ipvsadm -a -u 10.200.0.10:80"

# The lines of `ipvsadm -Sn` that belong to the foreign services.
foreign() {
	ipvsadm -Sn | grep -E -- '-[tu] (10\.99\.0\.1:80|10\.200\.0\.10:443|10\.200\.0\.10:80) ' |
		grep -v -- '-t 10\.200\.0\.10:80 ' | sort
}
before=$(foreign)
echo "$before"
lib_assert_eq 6 "$(echo "$before" | wc -l)" "three foreign services and their dests"

mkdir -p /tmp/e2e/apps
app() { e2e_http_app /web 10.200.0.10:80 2 "$1" >/tmp/e2e/apps/web.json; } # TASKS_JSON
TA=$(e2e_task web.a 10.61.1.2)
TB=$(e2e_task web.b 10.61.2.2)
app "$TA, $TB"
cat >/tmp/e2e/vipd.json <<'JSON'
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit.log", "reload_seconds": 1,
 "lb": {"interface": "vipd0", "drain_seconds": 2, "resync_seconds": 1}}
JSON
SVC=10.200.0.10:80

# stats_rounds: the reconcile rounds counter of a fresh stats line (SIGUSR1).
stats_rounds() {
	local n
	n=$(grep -c '"event":"stats"' /tmp/e2e/audit.log)
	kill -USR1 "$VIPD_PID"
	for ((i = 0; i < 50; i++)); do
		(($(grep -c '"event":"stats"' /tmp/e2e/audit.log) > n)) && break
		sleep 0.1
	done
	grep '"event":"stats"' /tmp/e2e/audit.log | tail -n 1 | sed -n 's/.*"rounds":\([0-9]*\).*/\1/p'
}

lib_log "vipd starts: its VIP comes up, the foreign services stay as they were"
e2e_vipd /tmp/e2e/vipd.json
e2e_wait_for "a in rotation" 10 e2e_weight_is $SVC 10.61.1.2:8080 1
e2e_wait_for "b in rotation" 10 e2e_weight_is $SVC 10.61.2.2:8080 1
lib_assert_eq "$before" "$(foreign)" "foreign services unchanged after start"
lib_assert_eq "a b" "$(lib_who_answers http://10.200.0.10/ 20)" "vipd's VIP reaches both backends"
lib_assert_eq "b" "$(lib_who_answers http://10.200.0.10:443/ 4)" "the foreign service on the VIP's address still carries traffic"

lib_log "several resync rounds (resync_seconds 1): each repairs drift on vipd's own service, and only there"
r0=$(stats_rounds)
for n in 1 2 3; do
	ipvsadm -e -t $SVC -r 10.61.1.2:8080 -m -w 7 || lib_fail "ipvsadm -e (drift $n)"
	e2e_wait_for "resync $n repairs a's weight" 4 e2e_weight_is $SVC 10.61.1.2:8080 1
	lib_assert_eq "$before" "$(foreign)" "foreign services unchanged after resync $n"
done
r1=$(stats_rounds)
echo "rounds: $r0 -> $r1"
[[ -n $r0 && -n $r1 ]] && ((r1 - r0 >= 3)) || lib_fail "expected at least 3 reconcile rounds, got [$r0] -> [$r1]"

lib_log "reload (SIGHUP) with a change: b leaves the definitions"
app "$TA"
kill -HUP "$VIPD_PID"
e2e_wait_for "b drained" 5 e2e_weight_is $SVC 10.61.2.2:8080 0
e2e_wait_for "b removed after the drain period" 8 e2e_weight_is $SVC 10.61.2.2:8080 none
lib_assert_eq "$before" "$(foreign)" "foreign services unchanged after reload"
sleep 2
lib_assert_eq "$before" "$(foreign)" "foreign services unchanged after more rounds"
lib_assert_eq "b" "$(lib_who_answers http://10.200.0.10:443/ 4)" "the foreign service on the VIP's address still carries traffic"

audit=$(cat /tmp/e2e/audit.log)
for svc in 'TCP 10.99.0.1:80' 'TCP 10.200.0.10:443' 'UDP 10.200.0.10:80'; do
	[[ $audit != *"\"service\":\"$svc\""* ]] ||
		lib_fail "the audit log shows an operation on the foreign service $svc: $(grep -F "\"service\":\"$svc\"" /tmp/e2e/audit.log | head -n 3)"
done
echo "ok: no operation on a foreign service in the audit log"

lib_log "stop: foreign services unchanged, vipd's own kept"
e2e_stop_vipd
lib_assert_eq "$before" "$(foreign)" "foreign services unchanged after stop"
lib_assert_eq 1 "$(e2e_dest_weight $SVC 10.61.1.2:8080)" "vipd's service and dest kept after stop"
echo "e2e coexist: all passed"
