# Guest side of state_lock.test.sh.
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
VIPD=$VIPD_BUILD_DIR/vipd
W=/tmp/state_lock
VIP=10.200.0.31
mkdir -p "$W/apps"
[[ -x $VIPD ]] || lib_fail "vipd not built"

lib_modules ip_vs ip_vs_wlc dummy
lib_dest_net
# A task with no checks: in rotation from the first round.
cat >"$W/apps/web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "$VIP:80"}}],
 "tasks": [{"id": "web.1", "host": "10.50.0.2", "ports": [8080]}]}
JSON
config() { # name interface
	cat >"$W/$1.json" <<JSON
{"apps": "$W/apps", "audit_log": "$W/$1.log", "checks": {"run_as": "nobody"},
 "lb": {"interface": "$2", "state_file": "$W/owned.json"}}
JSON
}
config a vipda
config b vipdb
service_present() { ipvsadm -Ln | grep -q "TCP  $VIP:80"; }

lib_log "first vipd"
"$VIPD" -c "$W/a.json" 2>"$W/a.err" &
a_pid=$!
for _ in $(seq 100); do service_present && break; sleep 0.2; done
service_present || { cat "$W/a.err"; lib_fail "the first vipd never programmed $VIP:80"; }

lib_log "second vipd, same state file"
"$VIPD" -c "$W/b.json" --run-for 5 2>"$W/b.err"
rc=$?
cat "$W/b.err"
lib_assert_eq 1 "$rc" "second vipd: exit 1"
lib_assert_eq "vipd: fatal: state file $W/owned.json is locked by another process (pid $a_pid, vipd): two vipd must not share one state file, give each its own lb.state_file" \
	"$(grep fatal "$W/b.err")" "second vipd: refused, naming the first"
kill -0 "$a_pid" 2>/dev/null || lib_fail "the first vipd died"
service_present || lib_fail "the first vipd's service is gone"
lib_assert_eq "" "$(ip link show vipdb 2>/dev/null)" "second vipd: created no interface"

lib_log "first vipd stopped: the second may start"
kill -TERM "$a_pid"
wait "$a_pid"
lib_assert_eq 0 "$?" "first vipd: exit 0"
"$VIPD" -c "$W/b.json" --run-for 2 2>"$W/b2.err"
rc=$?
cat "$W/b2.err"
lib_assert_eq 0 "$rc" "second vipd, alone: exit 0"
service_present || lib_fail "the second vipd keeps the service"
echo "all assertions passed"
