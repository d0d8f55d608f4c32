# Guest side of doctor.test.sh.
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
VIPD=$VIPD_BUILD_DIR/vipd
VIPCTL=$VIPD_BUILD_DIR/vipctl
W=/tmp/doctor
VIP=10.200.0.30
mkdir -p "$W/apps"
[[ -x $VIPD && -x $VIPCTL ]] || lib_fail "vipd or vipctl not built"

lib_modules ip_vs ip_vs_wlc dummy
lib_dest_net
# A task with no checks: in rotation from the first round.
cat >"$W/apps/web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "$VIP:80"}}],
 "tasks": [{"id": "web.1", "host": "10.50.0.2", "ports": [8080]}]}
JSON
cat >"$W/vipd.json" <<JSON
{"apps": "$W/apps", "audit_log": "$W/audit.log", "checks": {"run_as": "nobody"},
 "lb": {"interface": "vipd0", "state_file": "$W/owned.json",
        "timeouts": {"tcp": 3600, "tcpfin": 60, "udp": 200}}}
JSON

# doctor_run WHAT: runs vipctl doctor, sets $out and $rc, shows the output.
doctor_run() {
	out=$("$VIPCTL" -c "$W/vipd.json" doctor 2>&1)
	rc=$?
	echo "--- vipctl doctor ($1): exit $rc"
	printf '%s\n' "$out"
}
fails() { printf '%s\n' "$out" | grep '^FAIL' || true; }

# The kernel starts with STA_UNSYNC set until an NTP client says otherwise;
# this VM has none, so the test plays that part (adjtimex ADJ_STATUS).
sync_clock() {
	python3 - <<'PY' || lib_fail "adjtimex"
import ctypes
L = ctypes.c_long
class timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", L), ("freq", L), ("maxerror", L),
                ("esterror", L), ("status", ctypes.c_int), ("constant", L), ("precision", L),
                ("tolerance", L), ("time_sec", L), ("time_usec", L), ("tick", L),
                ("ppsfreq", L), ("jitter", L), ("shift", ctypes.c_int), ("stabil", L),
                ("jitcnt", L), ("calcnt", L), ("errcnt", L), ("stbcnt", L),
                ("tai", ctypes.c_int), ("pad", ctypes.c_int * 11)]
t = timex(modes=0x0010 | 0x0004, status=0, maxerror=1000)  # ADJ_STATUS | ADJ_MAXERROR
libc = ctypes.CDLL(None, use_errno=True)
if libc.adjtimex(ctypes.byref(t)) < 0:
    raise SystemExit("adjtimex: errno %d" % ctypes.get_errno())
PY
}

lib_log "vipd not started yet: no interface, the clock not synchronised"
doctor_run "before vipd"
lib_assert_eq 1 "$rc" "before vipd: exit 1"
lib_assert_contains "$(printf '%s\n' "$out" | head -1)" "ok    ipvs        IPVS 1.2.1, connection table" "IPVS first, with its version"
lib_assert_contains "$out" "FAIL  interface   VIP interface vipd0 does not exist; fix: vipd creates it at start: start vipd (systemctl start vipd)" "no interface, with its fix"
lib_assert_contains "$out" "FAIL  clock       the clock is not synchronised (adjtimex: STA_UNSYNC)" "clock not synchronised"

sync_clock
"$VIPD" -c "$W/vipd.json" >"$W/vipd.out" 2>&1 &
LIB_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
	ip -4 route show table local type local dev vipd0 2>/dev/null | grep -q "local $VIP " && break
	sleep 0.1
done
lib_assert_contains "$(ip -4 route show table local type local dev vipd0)" "local $VIP proto static" "vipd routed its VIP"

lib_log "all well"
doctor_run "all well"
lib_assert_eq "" "$(fails)" "all well: no FAIL"
lib_assert_eq 0 "$rc" "all well: exit 0"
lib_assert_contains "$out" "ok    sysctl      net.ipv4.vs.expire_nodest_conn = 1" "sysctl as vipd set it"
lib_assert_contains "$out" "ok    modules     ip_vs_wlc (scheduler wlc): loaded" "the scheduler's module"
lib_assert_contains "$out" "ok    timeouts    IPVS timeouts tcp 3600 s, tcpfin 60 s, udp 200 s, as configured" "timeouts as configured"
lib_assert_contains "$out" "ok    addresses   all 1 VIP addresses are routed through vipd0" "the VIP route in place"
lib_assert_contains "$out" "ok    conflicts   no other owner of vipd's VIP addresses" "no conflicting owner"
lib_assert_contains "$out" "ok    clock       the clock is synchronised" "clock synchronised"
lib_assert_eq true "$("$VIPCTL" -c "$W/vipd.json" doctor --json | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["ok"]).lower())')" "--json: ok"

lib_log "a sysctl deliberately wrong"
sysctl -qw net.ipv4.vs.expire_nodest_conn=0
doctor_run "sysctl wrong"
lib_assert_eq 1 "$rc" "sysctl wrong: exit 1"
lib_assert_eq "FAIL  sysctl      net.ipv4.vs.expire_nodest_conn = 0, vipd needs 1; fix: sysctl -w net.ipv4.vs.expire_nodest_conn=1 (vipd sets it at start: something reset it since, or vipd has not run; keep it in /etc/sysctl.d/)" "$(fails)" "sysctl wrong: that finding alone, with its fix"
sysctl -qw net.ipv4.vs.expire_nodest_conn=1
doctor_run "sysctl fixed"
lib_assert_eq 0 "$rc" "sysctl fixed: exit 0"

lib_log "another balancer's service on vipd's VIP address"
ipvsadm -A -t "$VIP:443" -s rr || lib_fail "ipvsadm -A"
doctor_run "conflict"
lib_assert_eq 1 "$rc" "conflict: exit 1"
lib_assert_eq "FAIL  conflicts   IPVS service TCP $VIP:443 is on a VIP address of vipd's but not vipd's (not in $W/owned.json): another balancer (keepalived, kube-proxy, ipvsadm) owns it; fix: remove it (ipvsadm -D -t $VIP:443) or give that VIP another address: vipd never changes a service it does not own" "$(fails)" "conflict: that finding alone, with its fix"
ipvsadm -D -t "$VIP:443"
doctor_run "conflict removed"
lib_assert_eq 0 "$rc" "conflict removed: exit 0"

lib_log "IPVS timeouts other than the config's"
ipvsadm --set 900 60 200
doctor_run "timeouts"
lib_assert_eq 1 "$rc" "timeouts: exit 1"
lib_assert_eq "FAIL  timeouts    IPVS tcp timeout is 900 s, lb.timeouts.tcp is 3600 s; fix: restart vipd (it sets them at start), or ipvsadm --set TCP TCPFIN UDP with the config's values" "$(fails)" "timeouts: that finding alone, with its fix"
ipvsadm --set 3600 60 200
doctor_run "timeouts fixed"
lib_assert_eq 0 "$rc" "timeouts fixed: exit 0"
echo "vm doctor: all passed"
