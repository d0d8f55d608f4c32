# Guest side of marathon.test.sh. Marathon's masters are played by
# tests/tools/marathon_standin.py (a stand-in for Marathon, which does not run
# here), two of them on the guest's loopback; vipd follows them with
# `--apps http://A,http://B` and programs the real IPVS table.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"
STANDIN=$VIPD_SOURCE_DIR/tests/tools/marathon_standin.py
SVC=10.200.0.10:80
A=10.61.1.2:8080 B=10.61.2.2:8080 C=10.61.3.2:8080
AUDIT=/tmp/e2e/audit.log LOG=/tmp/e2e/vipd.log

lib_modules ip_vs ip_vs_rr dummy veth
e2e_backend ba a 10.61.1.1 10.61.1.2
e2e_backend bb b 10.61.2.1 10.61.2.2
e2e_backend bc c 10.61.3.1 10.61.3.2
for ns in ba:10.61.1.2 bb:10.61.2.2 bc:10.61.3.2; do lib_wait_port "${ns%%:*}" "${ns#*:}" 8080; done

# On failure, what the stand-ins saw too (then lib_e2e.sh's logs and cleanup).
marathon_on_exit() {
	local rc=$? f
	if ((rc != 0)); then
		for f in /tmp/e2e/A.out /tmp/e2e/B.out; do
			[[ -e $f ]] && { echo "--- $f (last 15 lines):"; tail -n 15 "$f"; }
		done
	fi
	(exit $rc)
	e2e_on_exit
}
trap marathon_on_exit EXIT

count() { grep -c -- "$2" "$1" 2>/dev/null; }
# wait_line FILE PATTERN SECONDS WHAT: until PATTERN is in FILE (bounded), else fail.
wait_line() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	lib_fail "$4: no [$2] in $1 within $3 s"
}
# wait_count FILE PATTERN N SECONDS WHAT: until PATTERN is on N lines of FILE.
wait_count() {
	local i
	for ((i = 0; i < $4 * 20; i++)); do
		(($(count "$1" "$2") >= $3)) && return 0
		sleep 0.05
	done
	lib_fail "$5: fewer than $3 lines [$2] in $1 within $4 s"
}
# served MASTER: how many /v2/apps requests the stand-in has taken (its
# counter: a stalled answer's line may never be printed).
served() { awk '/^apps / { n = $2 } END { print n + 0 }' /tmp/e2e/$1.out; }
# master NAME FD: a stand-in taking commands on FD (opened read-write so that
# neither end waits for the other), its output in /tmp/e2e/NAME.out.
master() {
	mkfifo /tmp/e2e/$1.in
	eval "exec $2<>/tmp/e2e/$1.in"
	eval "${1}_fd=$2"
	python3 "$STANDIN" /tmp/e2e/apps.json </tmp/e2e/$1.in >/tmp/e2e/$1.out 2>&1 &
	LIB_PIDS+=($!)
	eval "${1}_pid=$!"
	wait_line /tmp/e2e/$1.out '^port' 10 "stand-in $1 start"
}
# say MASTER COMMAND: waits for the stand-in's "ok".
say() {
	local n i
	n=$(count /tmp/e2e/$1.out '^ok$')
	eval "echo \"\$2\" >&\${${1}_fd}"
	for ((i = 0; i < 200; i++)); do
		(($(count /tmp/e2e/$1.out '^ok$') > n)) && return 0
		sleep 0.05
	done
	lib_fail "stand-in $1 did not take [$2]"
}
task() { # ID HOST
	printf '{"id": "%s", "host": "%s", "ports": [8080], "state": "TASK_RUNNING", "startedAt": "2026-12-01T10:00:00.000Z"}' "$1" "$2"
}
# apps_file TASK_JSON...: the state the masters answer, one app /web with a
# VIP (round robin: traffic through it splits evenly, so that "balanced" is
# exact) and no health check (Marathon counts a running task without checks as
# healthy), so that the time measured is the event's way to the kernel alone.
apps_file() {
	local tasks
	tasks=$(IFS=,; echo "$*")
	cat >/tmp/e2e/apps.json.new <<JSON
{"apps": [{"id": "/web", "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "$SVC", "VIPD_SCHEDULER": "rr"}}],
 "tasks": [$tasks]}]}
JSON
	mv /tmp/e2e/apps.json.new /tmp/e2e/apps.json
}
status_json() { # TASK HOST STATUS
	printf '{"eventType":"status_update_event","appId":"/web","taskId":"%s","taskStatus":"%s","host":"%s","ports":[8080],"ipAddresses":[{"ipAddress":"%s","protocol":"IPv4"}],"timestamp":"2026-12-01T10:00:01.000Z"}' "$1" "$3" "$2" "$2"
}
EVENTS=0
# A fifo nothing writes to: `read -t` on it pauses without forking sleep, so
# that the polling below costs the one-CPU guest little.
mkfifo /tmp/e2e/tick
exec 7<>/tmp/e2e/tick
pause() { read -r -t "$1" -u 7; }
# in_kernel DEST WEIGHT: ipvsadm shows DEST at WEIGHT in the service ("none":
# not there), matched in the shell: one fork a look.
in_kernel() {
	local out re
	out=$(ipvsadm -Ln -t $SVC 2>/dev/null)
	re="-> ${1//./\\.} +[A-Za-z]+ +$2 "
	if [[ $2 == none ]]; then
		[[ ! $out =~ "-> $1 " ]]
	else
		[[ $out =~ $re ]]
	fi
}
# event_to_kernel MASTER TASK HOST STATUS DEST WEIGHT: sends the event and
# looks at the kernel until DEST's weight is WEIGHT ("none": no such dest);
# fails unless that look ended at most 1 s after the stand-in wrote the event
# to the stream (the time printed: an upper bound, the look's own cost in it).
event_to_kernel() {
	local m=$1 dest=$5 want=$6 sent now i at
	EVENTS=$((EVENTS + 1))
	eval "echo \"event-timed e$EVENTS status_update_event \$(status_json $2 $3 $4)\" >&\${${m}_fd}"
	for ((i = 0; i < 500; i++)); do
		in_kernel "$dest" "$want" && break
		pause 0.02
	done
	now=${EPOCHREALTIME/./}
	((i < 500)) || { echo "--- ipvsadm -Ln:"; ipvsadm -Ln; lib_fail "$2 $4 via $m: $dest never at weight $want"; }
	wait_line /tmp/e2e/$m.out "^sent e$EVENTS " 5 "event e$EVENTS written to a stream"
	sent=$(awk -v t="e$EVENTS" '$1 == "sent" && $2 == t { sub(/\./, "", $3); print $3 }' /tmp/e2e/$m.out)
	# The audit log's line for the kernel operation: when vipd made it.
	at=$(grep '"event":"ipvs"' $AUDIT | grep "\"dest\":\"$dest\"" | tail -n 1 |
		sed 's/.*"ts":"\([^"]*\)".*/\1/')
	at=$(date -d "$at" +%s%6N)
	printf '%s %s via %s: %s at weight %s in the kernel, seen %d ms after the event (audit: operation made after %d ms)\n' \
		"$2" "$4" "$m" "$dest" "$want" $(((now - sent) / 1000)) $(((at - sent) / 1000))
	((now - sent <= 1000000)) || lib_fail "$2 $4 via $m: $dest not at weight $want within 1 s of the event"
	echo "ok: $2 $4 via $m within 1 s"
}
# audit_has REGEX WHAT: a line of the audit log matches REGEX.
audit_has() {
	grep -q -- "$1" $AUDIT || lib_fail "$2: no line [$1] in the audit log"
	echo "ok: $2"
}
# answers COUNT: how many of COUNT new connections through the VIP each
# backend answered ("a:10 b:10").
answers() {
	local i
	for ((i = 0; i < $1; i++)); do
		curl -sS --max-time 5 http://10.200.0.10/ || echo "curl-failed"
	done | sort | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1 }'
}
# ipvs_ops: the audit log's operations on the kernel's table so far.
ipvs_ops() {
	grep '"event":"ipvs"' $AUDIT | grep -c -E '"op":"(add|del|edit)_(dest|service)"'
}
# table: ipvsadm -Ln --sort without the connection counters (the traffic the
# test sends moves them).
table() {
	ipvsadm -Ln --sort | awk '$1 == "->" && $2 != "RemoteAddress:Port" { NF = 4 } { print }'
}

apps_file "$(task web.a 10.61.1.2)" "$(task web.b 10.61.2.2)"
master A 5
master B 6
PA=$(awk '/^port/ { print $2; exit }' /tmp/e2e/A.out)
PB=$(awk '/^port/ { print $2; exit }' /tmp/e2e/B.out)
cat >/tmp/e2e/vipd.json <<JSON
{"audit_log": "$AUDIT", "lb": {"interface": "vipd0", "drain_seconds": 0, "resync_seconds": 1}}
JSON
"$VIPD" -c /tmp/e2e/vipd.json --apps "http://127.0.0.1:$PA,http://127.0.0.1:$PB" >>$LOG 2>&1 &
VIPD_PID=$!
LIB_PIDS+=($VIPD_PID)

lib_log "the state read from master A: a and b in rotation"
e2e_wait_for "a in rotation" 10 e2e_weight_is $SVC $A 1
e2e_wait_for "b in rotation" 10 e2e_weight_is $SVC $B 1
wait_line /tmp/e2e/A.out '^attached 1$' 5 "vipd follows A's event stream"
lib_assert_eq "a:10 b:10" "$(answers 20)" "traffic through the VIP balanced over a and b"

lib_log "tasks started, killed and lost through A's events reach the kernel within 1 s"
apps_file "$(task web.a 10.61.1.2)" "$(task web.b 10.61.2.2)" "$(task web.c 10.61.3.2)"
event_to_kernel A web.c 10.61.3.2 TASK_RUNNING $C 1
lib_assert_contains "$(cat $AUDIT)" '"task":"web.c","task_status":"TASK_RUNNING","change":"added"' "audit: web.c started"
audit_has "\"op\":\"add_dest\",\"service\":\"TCP $SVC\",.*\"dest\":\"$C\",\"weight\":1,.*\"task\":\"web.c\"" "audit: c added"
lib_assert_eq "a:10 b:10 c:10" "$(answers 30)" "traffic balanced over a, b and c"
apps_file "$(task web.a 10.61.1.2)" "$(task web.b 10.61.2.2)"
event_to_kernel A web.c 10.61.3.2 TASK_KILLED $C none
lib_assert_contains "$(cat $AUDIT)" '"task":"web.c","task_status":"TASK_KILLED","change":"removed"' "audit: web.c killed"
audit_has "\"op\":\"del_dest\",\"service\":\"TCP $SVC\",.*\"dest\":\"$C\"" "audit: c removed"
apps_file "$(task web.a 10.61.1.2)"
event_to_kernel A web.b 10.61.2.2 TASK_LOST $B none
lib_assert_contains "$(cat $AUDIT)" '"task":"web.b","task_status":"TASK_LOST","change":"removed"' "audit: web.b lost"
audit_has "\"op\":\"del_dest\",\"service\":\"TCP $SVC\",.*\"dest\":\"$B\"" "audit: b removed"
lib_assert_eq "a:10" "$(answers 10)" "only a answers"

lib_log "the stream drops; a task starts while vipd is away: the state read on reconnecting (to B) brings it"
# The state changes first (nothing reads it until the reconnect: no event
# came), then the stream drops and the task's event is sent while no stream
# is open: lost to vipd, as an event during a reconnect is.
apps_file "$(task web.a 10.61.1.2)" "$(task web.b2 10.61.2.2)"
say A close
say A "event status_update_event $(status_json web.b2 10.61.2.2 TASK_RUNNING)"
wait_line /tmp/e2e/B.out '^attached 1$' 10 "vipd reconnects, to B"
e2e_wait_for "b2 in rotation after the reconnect" 10 e2e_weight_is $SVC $B 1
reload=$(grep -n "\"event\":\"reload\",\"apps_path\":\"http://127.0.0.1:$PB\"" $AUDIT | head -n 1 | cut -d: -f1)
added=$(grep -n "\"op\":\"add_dest\",.*\"task\":\"web.b2\"" $AUDIT | head -n 1 | cut -d: -f1)
[[ -n $reload && -n $added ]] && ((reload < added)) ||
	lib_fail "b2 not added after a state read from B (audit lines: reload [$reload], add [$added])"
echo "ok: audit: b2 added after the state read from B"
lib_assert_eq 1 "$(grep -c "\"op\":\"add_dest\",.*\"dest\":\"$A\"" $AUDIT)" "a added once (the reconnect left it alone)"
lib_assert_eq "a:10 b:10" "$(answers 20)" "traffic balanced over a and b again"

lib_log "both masters in trouble (500, garbage, stalled, truncated, down): nothing programmed changes"
sleep 1.5 # a resync round or so: the table settled
before=$(table)
ops=$(ipvs_ops)
echo 'this is not JSON' >/tmp/e2e/garbage.json
na=$(served A) nb=$(served B)
say A "apps-status 500"
say B "apps /tmp/e2e/garbage.json"
say B close
wait_line $LOG "marathon http://127.0.0.1:$PB /v2/events: the stream ended; keeping the last good state" 5 "B's stream ended"
wait_line /tmp/e2e/A.out "^apps $((na + 1))\$" 5 "A asked for the state"
say A "apps-status 200"
say A "apps-delay 12"
wait_line $LOG "marathon http://127.0.0.1:$PA /v2/apps?embed=apps.tasks: HTTP 500; keeping the last good state" 2 "A's 500"
wait_line /tmp/e2e/B.out "^apps $((nb + 1))\$" 5 "B asked for the state"
say B "apps /tmp/e2e/apps.json"
say B "apps-truncate 40"
wait_line $LOG "marathon http://127.0.0.1:$PB /v2/apps?embed=apps.tasks: invalid JSON at line 1, column 4" 2 "B's garbage"
lib_assert_eq "a:10 b:10" "$(answers 20)" "traffic balanced while the masters are in trouble"
wait_line $LOG "marathon http://127.0.0.1:$PA /v2/apps?embed=apps.tasks: Timeout was reached; keeping the last good state" 20 "A's stall"
wait_line /tmp/e2e/B.out "^apps $((nb + 2))\$" 10 "B asked again"
say A "apps-delay 0"
wait_line $LOG "marathon http://127.0.0.1:$PB /v2/apps?embed=apps.tasks: Transferred a partial file; keeping the last good state" 2 "B's truncated body"
say B "apps-truncate -1"
wait_line /tmp/e2e/A.out "^apps $((na + 3))\$" 15 "A read again after recovering"
# A down: its process gone, the stream with it; vipd fails over to B, then
# (B's stream closed) finds A refusing connections and comes back to B.
nb=$(count /tmp/e2e/B.out '^attached ') sb=$(served B)
{ kill -KILL "$A_pid"; wait "$A_pid"; } 2>/dev/null
wait_count /tmp/e2e/B.out '^attached ' $((nb + 1)) 10 "vipd fails over to B"
wait_line /tmp/e2e/B.out "^apps $((sb + 1))\$" 10 "B read after the failover"
say B close
wait_line $LOG "marathon http://127.0.0.1:$PA /v2/events: Couldn't connect to server; keeping the last good state" 5 "A down"
wait_count /tmp/e2e/B.out '^attached ' $((nb + 2)) 10 "vipd back on B"
sleep 1.5 # a resync round or so
lib_assert_eq "$before" "$(table)" "ipvsadm -Ln --sort after the trouble"
lib_assert_eq "$ops" "$(ipvs_ops)" "IPVS operations in the audit log while the masters were in trouble"
lib_assert_eq 1 "$(count $LOG "HTTP 500")" "warnings about A's 500 (one per distinct problem)"
lib_assert_eq "a:10 b:10" "$(answers 20)" "traffic through the VIP still balanced over a and b"

lib_log "failover done: an event on master B reaches the kernel"
apps_file "$(task web.a 10.61.1.2)" "$(task web.b2 10.61.2.2)" "$(task web.c2 10.61.3.2)"
event_to_kernel B web.c2 10.61.3.2 TASK_RUNNING $C 1
lib_assert_eq "a:10 b:10 c:10" "$(answers 30)" "traffic balanced over a, b and c after B's event"

kill -TERM $VIPD_PID
wait $VIPD_PID
lib_assert_eq 0 $? "vipd exit code after SIGTERM"
echo "e2e marathon: all passed"
