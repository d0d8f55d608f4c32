# Guest side of restart.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

e2e_two_backends

mkdir -p /tmp/e2e/apps
e2e_http_app /web 10.200.0.10:80 2 "$(e2e_task web.a 10.61.1.2), $(e2e_task web.b 10.61.2.2)" \
	>/tmp/e2e/apps/web.json
SVC=10.200.0.10:80
A=10.61.1.2:8080 B=10.61.2.2:8080
RUN=0
# start_vipd: a new vipd with its own audit log, /tmp/e2e/audit.$RUN.log.
start_vipd() {
	RUN=$((RUN + 1))
	cat >/tmp/e2e/vipd.$RUN.json <<JSON
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit.$RUN.log", "reload_seconds": 1,
 "lb": {"interface": "vipd0", "drain_seconds": 60, "resync_seconds": 1}}
JSON
	e2e_vipd /tmp/e2e/vipd.$RUN.json
}
# checks_reported RUN N: the instance's audit log has N task health lines.
checks_reported() {
	(($(grep -c '"event":"task"' /tmp/e2e/audit.$1.log 2>/dev/null) >= $2))
}
# load_start OUT: new connections to the VIP, one after another, one line each
# in OUT (a name, or FAIL and why), until load_stop.
load_start() {
	rm -f /tmp/e2e/load.stop
	python3 "$E2E_DIR/load.py" http://10.200.0.10/ /tmp/e2e/load.stop >"$1" &
	LOAD_PID=$!
	LIB_PIDS+=($LOAD_PID)
}
load_stop() {
	touch /tmp/e2e/load.stop
	wait $LOAD_PID
}
# watch_weights OUT: b's weight (as ipvsadm shows it) every 0.1 s, until killed.
watch_weights() {
	while :; do
		e2e_dest_weight $SVC $B
		sleep 0.1
	done >"$1"
}
# no_dest_ops RUN: the instance changed no dest and no service.
no_dest_ops() {
	local ops
	ops=$(grep '"event":"ipvs"' /tmp/e2e/audit.$1.log | grep -E '"op":"(add|del|edit)_(dest|service)"')
	if [[ -n $ops ]]; then
		echo "--- audit log of run $1:"
		grep -v '"event":"stats"' /tmp/e2e/audit.$1.log
		lib_fail "run $1 changed the kernel's table after a restart: $ops"
	fi
	echo "ok: run $1 made no dest or service operation"
}

start_vipd
e2e_wait_for "a in rotation" 10 e2e_weight_is $SVC $A 1
e2e_wait_for "b in rotation" 10 e2e_weight_is $SVC $B 1

lib_log "two restarts under a steady load of new connections"
load_start /tmp/e2e/load1.out
for n in 1 2; do
	sleep 2
	e2e_stop_vipd
	start_vipd
	e2e_wait_for "run $RUN: both checks reported" 10 checks_reported $RUN 2
	lib_assert_eq 1 "$(e2e_dest_weight $SVC $A)" "run $RUN: a keeps weight 1"
	lib_assert_eq 1 "$(e2e_dest_weight $SVC $B)" "run $RUN: b keeps weight 1"
done
sleep 1
load_stop
echo "answers:$(sort /tmp/e2e/load1.out | uniq -c | tr -s ' ')"
(($(wc -l </tmp/e2e/load1.out) >= 50)) || lib_fail "the load made fewer than 50 requests"
lib_assert_eq 0 "$(grep -c -v -x -E 'a|b' /tmp/e2e/load1.out)" "no failed connection in $(wc -l </tmp/e2e/load1.out) ($(grep -m 3 FAIL /tmp/e2e/load1.out))"
lib_assert_eq "a b" "$(sort -u /tmp/e2e/load1.out | tr '\n' ' ' | sed 's/ $//')" "both backends served the load"
sleep 1.5 # a few resync rounds of the last run
no_dest_ops 2
no_dest_ops 3

lib_log "b goes down, then vipd restarts twice: b gets no new connection at any time"
touch /tmp/e2e/b.down
e2e_wait_for "b drained (weight 0)" 5 e2e_weight_is $SVC $B 0
watch_weights /tmp/e2e/bweight.out &
LIB_PIDS+=($!)
watchpid=$!
load_start /tmp/e2e/load2.out
for n in 1 2; do
	sleep 1.5
	e2e_stop_vipd
	start_vipd
	e2e_wait_for "run $RUN: both checks reported" 10 checks_reported $RUN 2
	lib_assert_eq 0 "$(e2e_dest_weight $SVC $B)" "run $RUN: b still at weight 0"
	lib_assert_eq 1 "$(e2e_dest_weight $SVC $A)" "run $RUN: a still at weight 1"
done
sleep 1
load_stop
kill $watchpid
echo "answers:$(sort /tmp/e2e/load2.out | uniq -c | tr -s ' ')"
(($(wc -l </tmp/e2e/load2.out) >= 50)) || lib_fail "the load made fewer than 50 requests"
lib_assert_eq "a" "$(sort -u /tmp/e2e/load2.out | tr '\n' ' ' | sed 's/ $//')" "every new connection went to a, none to the down b, none failed"
lib_assert_eq "0" "$(sort -u /tmp/e2e/bweight.out | tr '\n' ' ' | sed 's/ $//')" "b's weight was 0 at every look ($(wc -l </tmp/e2e/bweight.out) looks)"
no_dest_ops 4
no_dest_ops 5
lib_assert_contains "$(cat /tmp/e2e/audit.5.log)" '"task":"web.b","from":"unknown","to":"unhealthy"' "run 5: b's check reported it down"

lib_log "b recovers: back in rotation under the restarted vipd"
rm /tmp/e2e/b.down
e2e_wait_for "b back in rotation" 5 e2e_weight_is $SVC $B 1
lib_assert_contains "$(lib_who_answers http://10.200.0.10/ 30)" "b" "new connections reach b again"
e2e_stop_vipd
echo "e2e restart: all passed"
