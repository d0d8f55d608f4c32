# Guest side of daemon_patch.test.sh.
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
VIPD=$VIPD_BUILD_DIR/vipd
W=/tmp/patch
SVC=10.200.0.20:80
mkdir -p "$W/apps"
[[ -x $VIPD ]] || lib_fail "$VIPD not built"

lib_modules ip_vs ip_vs_wlc dummy veth
lib_backend_netns pa 10.64.1.1/24 10.64.1.2/24
lib_backend_netns pb 10.64.2.1/24 10.64.2.2/24
# busybox httpd: GET /health answers 200 while $W/www/NAME/health exists.
for b in a b; do
	mkdir -p "$W/www/$b"
	: >"$W/www/$b/health"
	ip netns exec "p$b" busybox httpd -f -p 8080 -h "$W/www/$b" &
	LIB_PIDS+=($!)
done
lib_wait_port pa 10.64.1.2 8080
lib_wait_port pb 10.64.2.2 8080

# Two apps share the VIP: a's health change must leave b's backend as it is.
for b in a b; do
	cat >"$W/apps/$b.json" <<JSON
{"id": "/$b",
 "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "$SVC"}}],
 "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [{"id": "$b.t", "host": "10.64.$([[ $b == a ]] && echo 1 || echo 2).2",
   "ports": [8080], "state": "TASK_RUNNING"}]}
JSON
done
# No resync and no reload during the test: every round after the first is a
# health round, or the fallback from one.
cat >"$W/vipd.json" <<JSON
{"apps": "$W/apps", "audit_log": "$W/audit.log", "reload_seconds": 600,
 "lb": {"interface": "vipd0", "drain_seconds": 600, "resync_seconds": 600}}
JSON
"$VIPD" -c "$W/vipd.json" >"$W/vipd.out" 2>&1 &
vipd_pid=$!
LIB_PIDS+=($vipd_pid)

weight() { # DEST: its weight in SVC, "none" when absent
	local w
	w=$(ipvsadm -Ln -t "$SVC" 2>/dev/null | awk -v d="$1" '$1 == "->" && $2 == d { print $4 }')
	echo "${w:-none}"
}
wait_weight() { # DEST WEIGHT SECONDS WHAT
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[[ $(weight "$1") == "$2" ]] && { echo "ok: $4"; return 0; }
		sleep 0.1
	done
	ipvsadm -Ln; tail -n 20 "$W/audit.log"; cat "$W/vipd.out"
	lib_fail "$4: $1 has weight $(weight "$1"), not $2, after $3 s"
}
ops() { grep -c '"event":"ipvs"' "$W/audit.log"; }

lib_log "both healthy: both in rotation"
wait_weight 10.64.1.2:8080 1 20 "a in rotation"
wait_weight 10.64.2.2:8080 1 20 "b in rotation"

lib_log "a fails its check: one edit of a's weight, b untouched"
before=$(ops)
rm "$W/www/a/health"
wait_weight 10.64.1.2:8080 0 10 "a drained"
lib_assert_eq 1 "$(weight 10.64.2.2:8080)" "b keeps its weight"
sleep 1
new=$(tail -n +1 "$W/audit.log" | grep '"event":"ipvs"' | tail -n $(($(ops) - before)))
lib_assert_eq 1 "$(printf '%s\n' "$new" | grep -c .)" "one kernel operation for the change"
lib_assert_contains "$new" '"op":"edit_dest","service":"TCP 10.200.0.20:80"' "it edits a's weight"
lib_assert_contains "$new" '"dest":"10.64.1.2:8080","weight":0' "to 0"

lib_log "a recovers: back to weight 1"
: >"$W/www/a/health"
wait_weight 10.64.1.2:8080 1 10 "a back in rotation"

lib_log "the service deleted behind vipd's back: the next health change restores it"
ipvsadm -D -t "$SVC" || lib_fail "ipvsadm -D"
rm "$W/www/a/health"
wait_weight 10.64.1.2:8080 0 15 "service back, a at weight 0"
lib_assert_eq 1 "$(weight 10.64.2.2:8080)" "b back at weight 1"
audit=$(cat "$W/audit.log")
lib_assert_contains "$audit" '"op":"edit_dest","service":"TCP 10.200.0.20:80"' "the refused edit is logged"
lib_assert_contains "$audit" '"result":"error"' "as an error"
lib_assert_contains "$audit" '"op":"add_service","service":"TCP 10.200.0.20:80"' "the whole-table round re-adds the service"
lib_assert_contains "$(ip -4 route show table local type local dev vipd0)" "local 10.200.0.20 proto static" "the VIP stays routed"

lib_log "after the fallback, health rounds again"
: >"$W/www/a/health"
wait_weight 10.64.1.2:8080 1 10 "a back in rotation"
kill -USR1 "$vipd_pid"
sleep 1
stats=$(grep '"event":"stats"' "$W/audit.log" | tail -n 1)
health=$(printf '%s' "$stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["health_rounds"])')
fallbacks=$(printf '%s' "$stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["health_round_fallbacks"])')
((health >= 3)) || lib_fail "stats: $health health rounds, expected at least 3 ($stats)"
echo "ok: stats: $health health rounds"
lib_assert_eq 1 "$fallbacks" "stats: one health round fell back"
# vstat NAME: the field of a fresh stats line (SIGUSR1) of the running vipd.
vstat() {
	local n i
	n=$(grep -c '"event":"stats"' "$AUDIT")
	kill -USR1 "$vipd_pid"
	for ((i = 0; i < 50; i++)); do
		(($(grep -c '"event":"stats"' "$AUDIT") > n)) && break
		sleep 0.1
	done
	grep '"event":"stats"' "$AUDIT" | tail -n 1 |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["'"$1"'"])'
}
routed() { ip -4 route show table local type local dev vipd0; }
wait_for() { # SECONDS WHAT COMMAND...
	local i secs=$1 what=$2
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && { echo "ok: $what"; return 0; }
		sleep 0.1
	done
	ipvsadm -Ln; routed; tail -n 20 "$AUDIT"; tail -n 20 "$W/vipd.out"
	lib_fail "$what: not after $secs s"
}
has_service() { ipvsadm -Ln -t "$1" >/dev/null 2>&1; }
no_service() { ! has_service "$1"; }
# start_run: vipd stopped, and a fresh one started on the same definitions
# and state file, with its own audit log and drain_seconds 0 (a removed
# app's service goes at once, in the reload's own round); returns once both
# checks have reported (its first round and the health rounds ran).
RUN=1
start_run() {
	local i n
	RUN=$((RUN + 1))
	kill -TERM "$vipd_pid"
	wait "$vipd_pid"
	AUDIT=$W/audit.$RUN.log
	cat >"$W/vipd.$RUN.json" <<JSON
{"apps": "$W/apps", "audit_log": "$AUDIT", "reload_seconds": 600,
 "lb": {"interface": "vipd0", "drain_seconds": 0, "resync_seconds": ${RESYNC:-600}}}
JSON
	"$VIPD" -c "$W/vipd.$RUN.json" >>"$W/vipd.out" 2>&1 &
	vipd_pid=$!
	LIB_PIDS+=($vipd_pid)
	for ((i = 0; i < 100; i++)); do
		n=$(grep -c '"event":"task"' "$AUDIT" 2>/dev/null)
		((${n:-0} >= 2)) && break
		sleep 0.1
	done
	((${n:-0} >= 2)) || lib_fail "run $RUN: the checks did not report in 10 s"
	sleep 1
	(($(vstat rounds) >= 1)) || lib_fail "run $RUN: no round"
}
# restart_adopts WHAT: a fresh vipd adopts the kernel's table, routes and
# owned set as the patch left them: no IPVS operation, no route changed, the
# state file unchanged (the whole round would have saved a different set).
restart_adopts() {
	local owned_before routes_before
	owned_before=$(cat "$STATE")
	routes_before=$(routed)
	start_run
	if grep -q '"event":"ipvs"' "$AUDIT"; then
		grep '"event":"ipvs"' "$AUDIT"
		lib_fail "$1: the fresh vipd changed the kernel's table"
	fi
	echo "ok: $1: the fresh vipd made no IPVS operation"
	lib_assert_eq "$routes_before" "$(routed)" "$1: the routes stay as the patch left them"
	lib_assert_eq "$owned_before" "$(cat "$STATE")" "$1: the state file stays as the patch left it"
}

# The reloads below add and remove a whole app: a service comes and goes, its
# VIP's route too, and the patch round takes them (dataplane_apply_patch), not
# the whole-table round.
AUDIT=$W/audit.log
STATE=/run/vipd/owned.json
NEW=10.200.0.30:80
start_run

lib_log "a reload adds an app with a new VIP: a patch makes its service, dest and route"
patched=$(vstat reload_rounds)
fellback=$(vstat reload_round_fallbacks)
before=$(grep -c '"event":"ipvs"' "$AUDIT")
cat >"$W/c.json" <<JSON
{"id": "/c",
 "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "$NEW"}}],
 "tasks": [{"id": "c.t", "host": "10.64.2.2", "ports": [8080], "state": "TASK_RUNNING"}]}
JSON
mv "$W/c.json" "$W/apps/c.json"
wait_for 10 "the new VIP's service appears" has_service "$NEW"
wait_for 5 "the new VIP is routed on vipd0" eval '[[ $(routed) == *"local 10.200.0.30 "* ]]'
lib_assert_eq 1 "$(ipvsadm -Ln -t "$NEW" | awk '$1 == "->" && $2 == "10.64.2.2:8080" { print $4 }')" "its dest at weight 1"
lib_assert_eq "$((patched + 1))" "$(vstat reload_rounds)" "the reload was a patch round"
lib_assert_eq "$fellback" "$(vstat reload_round_fallbacks)" "no reload fell back to the whole table"
new=$(grep '"event":"ipvs"' "$AUDIT" | tail -n +$((before + 1)))
lib_assert_eq 2 "$(printf '%s\n' "$new" | grep -c .)" "two kernel operations: the service and its dest"
lib_assert_contains "$new" '"op":"add_service","service":"TCP 10.200.0.30:80"' "the service added"
lib_assert_contains "$new" '"op":"add_dest","service":"TCP 10.200.0.30:80"' "then its dest"
lib_assert_contains "$(cat "$STATE")" '10.200.0.30' "the state file owns the new service"
lib_assert_eq 1 "$(weight 10.64.2.2:8080)" "the shared VIP untouched: b at weight 1"
restart_adopts "after the added app"

lib_log "a reload removes the app: a patch deletes its service and route"
patched=$(vstat reload_rounds)
fellback=$(vstat reload_round_fallbacks)
before=$(grep -c '"event":"ipvs"' "$AUDIT")
rm "$W/apps/c.json"
wait_for 10 "the service is gone" no_service "$NEW"
wait_for 5 "the route is gone" eval '[[ $(routed) != *"local 10.200.0.30 "* ]]'
lib_assert_contains "$(routed)" "local 10.200.0.20 " "the shared VIP stays routed"
lib_assert_eq "$((patched + 1))" "$(vstat reload_rounds)" "the reload was a patch round"
lib_assert_eq "$fellback" "$(vstat reload_round_fallbacks)" "no reload fell back to the whole table"
new=$(grep '"event":"ipvs"' "$AUDIT" | tail -n +$((before + 1)))
lib_assert_eq 1 "$(printf '%s\n' "$new" | grep -c .)" "one kernel operation"
lib_assert_contains "$new" '"op":"del_service","service":"TCP 10.200.0.30:80"' "the service deleted"
[[ $(cat "$STATE") == *10.200.0.30* ]] && lib_fail "the state file still owns the removed service"
echo "ok: the state file no longer owns the removed service"
restart_adopts "after the removed app"

lib_log "a new VIP whose service someone already made: the patch's add finds it, the whole round adopts it"
OTHER=10.200.0.31:80
ipvsadm -A -t "$OTHER" -s rr || lib_fail "ipvsadm -A"
ipvsadm -a -t "$OTHER" -r 10.64.1.2:8080 -m -w 5 || lib_fail "ipvsadm -a"
fellback=$(vstat reload_round_fallbacks)
cat >"$W/d.json" <<JSON
{"id": "/d",
 "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "$OTHER"}}],
 "tasks": [{"id": "d.t", "host": "10.64.2.2", "ports": [8080], "state": "TASK_RUNNING"}]}
JSON
mv "$W/d.json" "$W/apps/d.json"
dests() { ipvsadm -Ln -t "$OTHER" | awk '$1 == "->" && $2 ~ /^[0-9]/ { printf "%s %s;", $2, $4 }'; }
sched_is() { ipvsadm -Ln -t "$OTHER" | grep -q "TCP  $OTHER $1"; }
wait_for 10 "its dests are the app's alone" eval '[[ $(dests) == "10.64.2.2:8080 1;" ]]'
wait_for 5 "its scheduler is vipd's" sched_is wlc
lib_assert_eq "$((fellback + 1))" "$(vstat reload_round_fallbacks)" "the patch fell back to the whole round"
lib_assert_contains "$(routed)" "local 10.200.0.31 " "the VIP is routed"
restart_adopts "after the adopted service"

lib_log "reloads while a resync is in flight wait for it, not a whole-table build each"
# 1,500 more VIPs make each resync (every second here) a round driven by the
# loop that lasts: a reload's patch built meanwhile waits in the desired
# table and one round applies what waited (rounds_deferred); before, each
# such reload fell back to a whole-table build (reload_round_fallbacks).
python3 - "$W/many.json" <<'PY'
import json, sys
apps = [{"id": "/many/a%d" % i,
         "portDefinitions": [{"port": 0, "protocol": "tcp",
                              "labels": {"VIP_0": "10.201.%d.%d:80" % (i // 250, i % 250 + 1)}}],
         "tasks": [{"id": "m%d.t" % i, "host": "10.64.1.2", "ports": [8080],
                    "state": "TASK_RUNNING"}]} for i in range(1500)]
json.dump({"apps": apps}, open(sys.argv[1], "w"))
PY
mv "$W/many.json" "$W/apps/many.json"
WV=10.200.0.40:80
weighted() { # WEIGHT: the app /w's task in its service at that weight
	[[ $(ipvsadm -Ln -t "$WV" 2>/dev/null | awk '$1 == "->" && $2 == "10.64.2.2:8080" { print $4 }') == "$1" ]]
}
write_w() { # WEIGHT
	cat >"$W/w.json" <<JSON
{"id": "/w", "labels": {"VIPD_WEIGHT": "$1"},
 "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "$WV"}}],
 "tasks": [{"id": "w.t", "host": "10.64.2.2", "ports": [8080], "state": "TASK_RUNNING"}]}
JSON
	mv "$W/w.json" "$W/apps/w.json"
}
write_w 1
RESYNC=1 start_run
wait_for 60 "1,500 VIPs and /w's in the kernel" eval '(($(ipvsadm -Ln | grep -c "^TCP") >= 1503))'
wait_for 10 "/w at weight 1" weighted 1
deferred=$(vstat rounds_deferred)
fellback=$(vstat reload_round_fallbacks)
for ((w = 2; w <= 40; w++)); do
	write_w "$w"
	sleep 0.3
	(($(vstat rounds_deferred) > deferred)) && break
done
((w <= 40)) || lib_fail "no reload met a resync in flight in 39 tries: the scenario did not test the wait"
echo "ok: a reload's patch waited for the resync in flight (after $((w - 1)) reloads)"
wait_for 30 "the last weight reaches the kernel" weighted "$w"
lib_assert_eq "$fellback" "$(vstat reload_round_fallbacks)" "no reload fell back to a whole-table build"
rm "$W/apps/many.json" "$W/apps/w.json"
echo "vm daemon_patch: all passed"
