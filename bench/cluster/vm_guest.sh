# shellcheck shell=bash
# Guest side of bench/cluster/vm.sh (runs inside tests/vm/vm.sh): a real etcd on the
# guest's loopback (data dir on its tmpfs), bench/cluster/publisher.py loading NODES x TASKS
# backends, then REPS times a new vipd converging from empty, once with --no-ipvs (the plan
# only, as bench/cluster/run.sh measures on the host) and once programming the guest's real
# IPVS; then CHANGES remote weight changes put through etcd's gateway with curl, each timed
# to the kernel. Prints "BENCH <kind> <json>" and "BENCHINFO <text>" lines on the console;
# vm.sh collects them. No timing is asserted: a run fails only when the work did not happen.
#   vm_guest.sh NODES TASKS VIPS REPS TTL CHANGES
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
HERE=$VIPD_SOURCE_DIR/bench/cluster
VIPD=$VIPD_BUILD_DIR/vipd
NODES=${1:-100}
TASKS=${2:-1000}
VIPS=${3:-1000}
REPS=${4:-2}
TTL=${5:-30}
CHANGES=${6:-10}
W=/tmp/cvm
ETCD=http://127.0.0.1:2379
WANT=$((NODES * TASKS))
mkdir -p "$W/apps"
[[ -x $VIPD ]] || lib_fail "$VIPD not built"

info() { echo "BENCHINFO $*"; }
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat"; }
mem_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
count() { # PATTERN FILE: matching lines, 0 when the file does not exist yet
	if [[ -f $2 ]]; then grep -c -- "$1" "$2" || true; else echo 0; fi
}
ndests() { ipvsadm -Ln | awk '$1 == "->" && $2 ~ /^[0-9[]/' | wc -l; }
nsvcs() { ipvsadm -Ln | grep -c '^TCP'; }

info "kernel $(uname -r); $(nproc) vCPU; $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo); $(etcd --version | head -n 1); $(ipvsadm -v 2>&1 | head -n 1)"
lib_modules ip_vs ip_vs_wlc dummy
# The simulated nodes' hosts are 10.1.0.1-10.1.0.250 (publisher.py's Layout): IPVS refuses a
# destination it has no route to, so they get an on-link network; none of them answers, and
# no packet is ever sent to them. Its address is also the node address vipd gives the VIPs'
# local routes as their source.
ip link add dst0 type dummy || lib_fail "dummy dst0"
ip link set dst0 up
ip addr add 10.1.255.254/16 dev dst0 || lib_fail "10.1.0.0/16 on dst0"

# etcd 3.4 as bench/cluster/run.sh starts it, its data dir on the guest's tmpfs.
etcd --name bench --data-dir "$W/etcd" \
	--listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster bench=http://127.0.0.1:2380 \
	--quota-backend-bytes $((8 * 1024 * 1024 * 1024)) --max-txn-ops 1000 \
	--max-request-bytes $((16 * 1024 * 1024)) >"$W/etcd.log" 2>&1 &
ETCD_PID=$!
LIB_PIDS+=("$ETCD_PID")
for ((i = 0; i < 600; i++)); do
	curl -sf "$ETCD/health" >/dev/null && break
	sleep 0.1
done
curl -sf "$ETCD/health" >/dev/null || { tail -n 20 "$W/etcd.log"; lib_fail "etcd never got healthy"; }

# The publisher reads commands from a FIFO kept open here: it runs (and keeps its leases
# alive) until this script ends.
mkfifo "$W/ctl"
python3 "$HERE/publisher.py" publish --endpoint "$ETCD" --nodes "$NODES" --tasks "$TASKS" \
	--vips "$VIPS" --ttl "$TTL" --status "$W/status" <"$W/ctl" 2>"$W/publisher.err" &
PUB_PID=$!
LIB_PIDS+=("$PUB_PID")
exec 3>"$W/ctl"
for ((i = 0; i < 36000; i++)); do
	grep -q '^loaded' "$W/status" 2>/dev/null && break
	kill -0 "$PUB_PID" 2>/dev/null || { cat "$W/publisher.err"; lib_fail "the publisher stopped"; }
	sleep 0.1
done
read -r _ KEYS LOAD_S < <(grep '^loaded' "$W/status") || lib_fail "the publisher never loaded"
info "publisher: $NODES nodes x $TASKS tasks over $VIPS VIPs: $KEYS keys in $LOAD_S s (lease TTL $TTL s)"
echo "BENCH load {\"keys\": $KEYS, \"seconds\": $LOAD_S, \"load\": $(loadavg)}"
info "etcd after the load: RSS $(($(mem_kib "$ETCD_PID" VmRSS) / 1024)) MiB, data dir $(du -sm "$W/etcd" | cut -f1) MiB"

leases_held() {
	local lost
	lost=$(count '^lost' "$W/status")
	[[ $lost == 0 ]] || lib_fail "etcd let $lost simulated nodes' leases expire: the run is void (raise TTL)"
}

# start_vipd NAME MODE: a new vipd with no state file, no app of its own (every backend
# comes from etcd); MODE ipvs or noipvs.
start_vipd() {
	local name=$1 mode=$2 opt=()
	[[ $mode == noipvs ]] && opt=(--no-ipvs)
	rm -f "$W/$name.state" "$W/$name.audit"
	cat >"$W/$name.json" <<JSON
{"lb": {"state_file": "$W/$name.state", "source_address": "10.1.255.254"},
 "cluster": {"hosts": ["127.0.0.1"], "endpoints": ["$ETCD"], "lease_ttl": $TTL}}
JSON
	T0=$(date +%s.%N)
	"$VIPD" -c "$W/$name.json" "${opt[@]}" --apps "$W/apps" --audit "$W/$name.audit" \
		--node "$name" 2>>"$W/$name.err" &
	VIPD_PID=$!
	LIB_PIDS+=("$VIPD_PID")
}

stop_vipd() {
	kill -TERM "$VIPD_PID"
	wait "$VIPD_PID" || info "vipd exited with $?"
}

# remote_added FILE: add_dest lines of the simulated nodes' backends (planned or applied).
remote_added() { count '"op":"add_dest".*"dest":"10\.1\.' "$1"; }

wait_converged() { # NAME SECONDS
	local i
	for ((i = 0; i < $2 * 2; i++)); do
		[[ $(remote_added "$W/$1.audit") -ge $WANT ]] && return 0
		kill -0 "$VIPD_PID" 2>/dev/null || { tail -n 20 "$W/$1.err"; lib_fail "$1: vipd stopped"; }
		grep -qs '"event":"audit_lost"' "$W/$1.audit" &&
			lib_fail "$1: the audit log dropped lines: $(grep -m1 '"event":"audit_lost"' "$W/$1.audit")"
		sleep 0.5
	done
	lib_fail "$1: $(remote_added "$W/$1.audit") of $WANT remote backends after $2 s"
}

# converge NAME MODE: one new vipd from start to its last remote add_dest; report.py's
# converge line (read-only reuse of the host bench's reducer) plus, with IPVS, what the
# kernel holds then, counted by ipvsadm over netlink.
converge() {
	local name=$1 mode=$2 cpu hwm line a b d s routes errs
	start_vipd "$name" "$mode"
	wait_converged "$name" 3000
	cpu=$(cpu_s "$VIPD_PID")
	hwm=$(mem_kib "$VIPD_PID" VmHWM)
	line=$(python3 "$HERE/report.py" converge "$W/$name.audit" "$T0" "$cpu" "$hwm" "$(loadavg)")
	# A page of the read that outlasts the request timeout restarts the read: count them.
	line=${line%\}}", \"etcd_disconnects\": $(count '"event":"cluster_etcd".*"state":"disconnected"' "$W/$name.audit")}"
	if [[ $mode == ipvs ]]; then
		a=$(date +%s.%N)
		d=$(ndests)
		b=$(date +%s.%N)
		s=$(nsvcs)
		routes=$(ip route show table local dev vipd0 | grep -c '^local ')
		errs=$(count '"result":"error"' "$W/$name.audit")
		[[ $d -ge $WANT ]] || lib_fail "$name: the audit applied $WANT but ipvsadm lists $d destinations"
		line=${line%\}}", \"kernel_dests\": $d, \"kernel_services\": $s, \"vip_routes\": $routes"
		line+=", \"ipvs_errors\": $errs, \"ipvsadm_list_s\": $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }')"
		line+=", \"since_start_to_ipvsadm_s\": $(awk -v a="$T0" -v b="$b" 'BEGIN { printf "%.2f", b - a }')}"
	fi
	echo "BENCH converge_$mode $line"
}

reset_kernel() { # what the last IPVS run left: SIGTERM leaves a node's table as it is
	ipvsadm -C
	ip link del vipd0 2>/dev/null
	[[ $(nsvcs) == 0 ]] || lib_fail "ipvsadm -C left $(nsvcs) services"
}

for ((r = 1; r <= REPS; r++)); do
	lib_log "repetition $r: a new vipd with --no-ipvs"
	converge "plan$r" noipvs
	stop_vipd
	leases_held
	lib_log "repetition $r: a new vipd programming IPVS"
	converge "kern$r" ipvs
	leases_held
	((r < REPS)) && { stop_vipd; reset_kernel; }
done
info "vipd following the cluster: RSS $(($(mem_kib "$VIPD_PID" VmRSS) / 1024)) MiB; etcd RSS $(($(mem_kib "$ETCD_PID" VmRSS) / 1024)) MiB; guest MemAvailable $(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo) MiB"

# ---------------------------------------------------------------------------------
# Remote changes to the kernel: CHANGES weight changes (2, 3 or 4), each of one backend of
# another VIP, put through etcd's JSON gateway under the key's own lease, as its node would,
# one every 1.5 s. From one python process on one keep-alive connection: a curl process per
# put would time curl's start under TCG (~1 s), not etcd. Timed: put sent -> etcd answered
# (its commit), answered -> the vipd's edit_dest applied (its audit ts, milliseconds), and
# answered -> `ipvsadm -Ln -t SERVICE` shows the weight (polled every 50 ms: an upper bound).
python3 - "$HERE" "$NODES" "$TASKS" "$VIPS" "$CHANGES" "$ETCD" "$W/kern$REPS.audit" <<'PY' ||
import json, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import publisher
from report import ts_of
nodes, tasks, vips, changes = (int(x) for x in sys.argv[2:6])
etcd, audit = publisher.Etcd(sys.argv[6]), sys.argv[7]
class A: pass
a = A()
a.prefix, a.nodes, a.tasks, a.vips = "/vipd/v1/", nodes, tasks, vips
lay = publisher.Layout(a)
home = {k: json.loads(v)["ipv4"] for k, v in lay.vip_records().items()}

def weight_of(svc, dest):
    out = subprocess.run(["ipvsadm", "-Ln", "-t", svc], capture_output=True, text=True).stdout
    for line in out.splitlines():
        w = line.split()
        if len(w) >= 4 and w[0] == "->" and w[1] == dest:
            return w[3]
    return None

def applied_at(dest, weight, after):
    for line in open(audit):
        if '"op":"edit_dest"' not in line:
            continue
        e = json.loads(line)
        if e.get("dest") == dest and e.get("weight") == weight and e.get("result") == "ok" \
                and ts_of(line) >= after:
            return ts_of(line)
    return None

for c in range(changes):
    n, t, weight = (c * 37) % nodes, (c * 101) % tasks, c % 3 + 2
    key = lay.backend_key(n, t)
    svc, dest = home[lay.app(t)] + ":80", "%s:%d" % (lay.host(n), lay.port(t))
    kv = etcd.call("/v3/kv/range", {"key": publisher.b64(key)}).get("kvs")
    if not kv:
        sys.exit("change %d: no key %s in etcd" % (c + 1, key))
    value = lay.backend_value(n, t, "healthy").replace('"weight":1,', '"weight":%d,' % weight)
    body = {"key": publisher.b64(key), "value": publisher.b64(value), "lease": kv[0].get("lease", "0")}
    t_send = time.time()
    etcd.call("/v3/kv/put", body)
    t_done = time.time()
    seen = None
    for _ in range(1200):
        if weight_of(svc, dest) == str(weight):
            seen = time.time()
            break
        time.sleep(0.05)
    if seen is None:
        sys.exit("change %d: %s of %s never got weight %d in the kernel" % (c + 1, dest, svc, weight))
    time.sleep(0.3)  # the audit line follows the kernel's answer
    applied = applied_at(dest, weight, t_send - 0.001)  # audit ts are milliseconds
    print("BENCH change " + json.dumps({
        "commit_ms": round((t_done - t_send) * 1000, 1),
        "applied_ms": None if applied is None else round((applied - t_done) * 1000, 1),
        "ipvsadm_seen_ms": round((seen - t_done) * 1000, 1)}), flush=True)
    time.sleep(1.5)
PY
	lib_fail "the remote changes"
leases_held
info "vipd CPU $(cpu_s "$VIPD_PID") s in all, VmHWM $(($(mem_kib "$VIPD_PID" VmHWM) / 1024)) MiB; guest load average $(cut -d' ' -f1-3 /proc/loadavg)"
stop_vipd
echo "bench/cluster/vm: done"
