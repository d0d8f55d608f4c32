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
echo "vm daemon_patch: all passed"
