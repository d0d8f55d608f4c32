# Guest side of bench/ipvs/run.sh (runs inside tests/vm/vm.sh): measures, prints
# "BENCH <key> <value>" lines (one per sample) and "BENCHINFO <text>" lines on the
# console; run.sh collects them. Nothing here asserts a timing: a run fails only when
# the work itself did not happen (wrong operation counts, tables not programmed).
#   guest.sh REPS DURATION_S QUICK_ROUNDS
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
HERE=$VIPD_SOURCE_DIR/bench/ipvs
REPS=${1:-5}
DUR=${2:-60}
QROUNDS=${3:-10}
T=$VIPD_BUILD_DIR/tests/dataplane_tool
VIPD=$VIPD_BUILD_DIR/vipd
W=/tmp/bench
mkdir -p "$W"
[[ -x $T && -x $VIPD ]] || lib_fail "build $T and $VIPD first"

bench() { echo "BENCH $1 $2"; }
info() { echo "BENCHINFO $*"; }
# wall_ms START END (EPOCHREALTIME values): milliseconds with 3 decimals.
wall_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) * 1000 }'; }
# round_ms FILE N: the in-process time of round N that dataplane_tool -T printed.
round_ms() { awk -v n="$2" '$1 == "time" && $3 == n { print $4 }' "$1"; }
expect() { # FILE TEXT WHAT
	grep -qxF -- "$2" "$1" || { cat "$1"; lib_fail "$3: no line [$2]"; }
}
nsvcs() { ipvsadm -Ln | grep -c '^TCP'; }

info "kernel $(uname -r); $(nproc) vCPU; $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"
info "ipvsadm $(ipvsadm -v 2>&1 | head -n 1)"
lib_modules ip_vs ip_vs_wlc dummy veth
lib_dest_net dst0

# ---------------------------------------------------------------------------------
# Part A: 1,000 services x 10 destinations, vipd's dataplane vs ipvsadm.
python3 - "$W" "$QROUNDS" <<'PY'
import sys
w, q = sys.argv[1], int(sys.argv[2])
def vip(i): return "10.100.%d.%d" % (i // 256, i % 256)
def table(path, changed=None):
    with open(path, "w") as f:
        for i in range(1, 1001):
            f.write("svc tcp %s 80\n" % vip(i))
            for j in range(2, 12):
                wt = changed if (changed is not None and i == 500 and j == 2) else 1
                f.write("dest 10.50.0.%d 8080 weight %d\n" % (j, wt))
table(w + "/table")
table(w + "/w5", 5)
open(w + "/empty", "w").close()
with open(w + "/rules", "w") as f:
    for i in range(1, 1001):
        f.write("-A -t %s:80 -s wlc\n" % vip(i))
        for j in range(2, 12):
            f.write("-a -t %s:80 -r 10.50.0.%d:8080 -m -w 1\n" % (vip(i), j))
PY
quick_files=()
for ((k = 0; k < QROUNDS; k++)); do
	((k % 2 == 0)) && quick_files+=("$W/w5") || quick_files+=("$W/table")
done

vipd_side() {
	local r=$1 a b k
	# Bulk load from empty (IPVS only: no -i, so no VIP addresses, like ipvsadm -R).
	a=$EPOCHREALTIME
	"$T" -T apply "$W/table" >"$W/o" 2>&1
	b=$EPOCHREALTIME
	expect "$W/o" "round 1 ops 11000 failed 0" "vipd apply from empty"
	bench vipd_apply_wall_ms "$(wall_ms "$a" "$b")"
	bench vipd_apply_round_ms "$(round_ms "$W/o" 1)"
	[[ $(nsvcs) == 1000 ]] || lib_fail "vipd apply: $(nsvcs) services, not 1000"
	# Full read-and-diff with nothing to change.
	a=$EPOCHREALTIME
	"$T" -T apply "$W/table" >"$W/o" 2>&1
	b=$EPOCHREALTIME
	expect "$W/o" "round 1 ops 0 failed 0" "vipd resync unchanged"
	bench vipd_resync_wall_ms "$(wall_ms "$a" "$b")"
	bench vipd_resync_round_ms "$(round_ms "$W/o" 1)"
	# One weight change, full round (reads the kernel), then back.
	"$T" -T apply "$W/table" "$W/w5" "$W/table" >"$W/o" 2>&1
	expect "$W/o" "round 2 ops 1 failed 0" "full round: one weight change"
	expect "$W/o" "round 3 ops 1 failed 0" "full round: the weight back"
	bench vipd_resync_round_ms "$(round_ms "$W/o" 1)"
	bench vipd_weight_full_round_ms "$(round_ms "$W/o" 2)"
	bench vipd_weight_full_round_ms "$(round_ms "$W/o" 3)"
	# One weight change, quick rounds (the daemon's path between resyncs).
	"$T" -q -T apply "$W/table" "${quick_files[@]}" >"$W/o" 2>&1
	for ((k = 2; k <= QROUNDS + 1; k++)); do
		expect "$W/o" "round $k ops 1 failed 0" "quick round $k: one weight change"
		bench vipd_weight_quick_round_ms "$(round_ms "$W/o" "$k")"
	done
	# One weight change, incremental rounds (the daemon's path for a health change: only
	# the changed service is handed over, planned against the remembered table).
	"$T" -p -T apply "$W/table" "${quick_files[@]}" >"$W/o" 2>&1
	for ((k = 2; k <= QROUNDS + 1; k++)); do
		expect "$W/o" "round $k ops 1 failed 0" "incremental round $k: one weight change"
		bench vipd_weight_patch_round_ms "$(round_ms "$W/o" "$k")"
	done
	# Remove vipd's services (no flush: vipd deletes what it owns; without -s it owns
	# what the process's first round adopted).
	"$T" apply "$W/table" "$W/empty" >"$W/o" 2>&1
	expect "$W/o" "round 2 ops 1000 failed 0" "vipd removes its 1000 services"
	[[ $(nsvcs) == 0 ]] || lib_fail "after vipd's removal: $(nsvcs) services"
	# Whole-table rounds driven by an event loop (dataplane_request, the daemon's path for
	# resyncs): the bulk load, a resync with nothing to change, the removal; with a 1 ms
	# timer beside them, whose longest wait is how long the loop was held.
	"$T" -L -Q -T apply "$W/table" "$W/table" "$W/empty" >"$W/o" 2>&1
	expect "$W/o" "round 1 ops 11000 failed 0" "loop round: apply from empty"
	expect "$W/o" "round 2 ops 0 failed 0" "loop round: resync unchanged"
	expect "$W/o" "round 3 ops 1000 failed 0" "loop round: removal"
	for k in 1 2 3; do
		awk -v n="$k" -v key="$(echo apply resync remove | cut -d' ' -f"$k")" '
			$1 == "loop" && $3 == n && $4 == "round" {
				printf "BENCH vipd_loop_%s_round_ms %s\n", key, $5
				printf "BENCH vipd_loop_%s_max_iteration_ms %s\n", key, $12
				printf "BENCH vipd_loop_%s_max_tick_gap_ms %s\n", key, $16
			}' "$W/o"
	done
	[[ $(nsvcs) == 0 ]] || lib_fail "after the loop rounds' removal: $(nsvcs) services"
	# As the daemon does it: VIP addresses bound on vipd0, owned set persisted.
	a=$EPOCHREALTIME
	"$T" -T -i vipd0 -s "$W/owned.json" apply "$W/table" >"$W/o" 2>&1
	b=$EPOCHREALTIME
	expect "$W/o" "round 1 ops 11000 failed 0" "vipd apply from empty with addresses"
	bench vipd_apply_addr_wall_ms "$(wall_ms "$a" "$b")"
	bench vipd_apply_addr_round_ms "$(round_ms "$W/o" 1)"
	[[ $(ip -o addr show dev vipd0 | grep -c 'inet 10.100.') == 1000 ]] ||
		lib_fail "1000 VIP addresses not bound"
	"$T" -i vipd0 -s "$W/owned.json" apply "$W/empty" >"$W/o" 2>&1
	expect "$W/o" "round 1 ops 1000 failed 0" "vipd removes its services and addresses"
	[[ $(nsvcs) == 0 ]] || lib_fail "after vipd's removal: $(nsvcs) services"
}

ipvsadm_side() {
	local a b
	a=$EPOCHREALTIME
	ipvsadm -R <"$W/rules" >"$W/o" 2>&1 || { cat "$W/o"; lib_fail "ipvsadm -R"; }
	b=$EPOCHREALTIME
	bench ipvsadm_restore_wall_ms "$(wall_ms "$a" "$b")"
	[[ $(nsvcs) == 1000 ]] || lib_fail "ipvsadm -R: $(nsvcs) services, not 1000"
	a=$EPOCHREALTIME
	ipvsadm -Sn >"$W/saved" 2>&1 || lib_fail "ipvsadm -Sn"
	b=$EPOCHREALTIME
	bench ipvsadm_save_wall_ms "$(wall_ms "$a" "$b")"
	[[ $(wc -l <"$W/saved") == 11000 ]] || lib_fail "ipvsadm -Sn: $(wc -l <"$W/saved") lines"
	ipvsadm -C
	[[ $(nsvcs) == 0 ]] || lib_fail "after ipvsadm -C: $(nsvcs) services"
}

lib_log "part A: 1,000 VIPs x 10 backends, $REPS repetitions (order alternates)"
for ((r = 1; r <= REPS; r++)); do
	if ((r % 2)); then vipd_side "$r"; ipvsadm_side; else ipvsadm_side; vipd_side "$r"; fi
	echo "part A: repetition $r done"
done
ip link del vipd0 2>/dev/null

# ---------------------------------------------------------------------------------
# Part B: the daemon, 50 tasks whose HTTP checks flip; check result to kernel.
lib_backend_netns lat 10.62.0.1/24 10.62.0.2/24
# Cheap responders: one busybox httpd per port (a fork per request, no interpreter);
# GET /health answers 200 while $W/www/PORT/health exists, else 404.
for ((p = 9000; p < 9050; p++)); do
	mkdir -p "$W/www/$p"
	ip netns exec lat busybox httpd -f -p "10.62.0.2:$p" -h "$W/www/$p" &
	LIB_PIDS+=($!)
done
lib_wait_port lat 10.62.0.2 9049

flipped_in() { # SVC: destinations at weight 1
	ipvsadm -Ln -t "$1" 2>/dev/null | awk '$1 == "->" && $4 == 1' | wc -l
}

scenario() { # NAME STATIC_VIPS
	local name=$1 nvips=$2 apps=$W/apps-$1 log=$W/audit-$1.log pid i p end
	rm -rf "$apps" "$log" /run/vipd
	for ((p = 9000; p < 9050; p++)); do : >"$W/www/$p/health"; done
	python3 "$HERE/mkapps.py" "$apps" 50 10.62.0.2 9000 "$nvips" 10
	cat >"$W/vipd-$name.json" <<JSON
{"apps": "$apps", "audit_log": "$log", "reload_seconds": 5,
 "lb": {"interface": "vipd0", "drain_seconds": 3600, "resync_seconds": 30}}
JSON
	"$VIPD" -c "$W/vipd-$name.json" >"$W/vipd-$name.out" 2>&1 &
	pid=$!
	LIB_PIDS+=($pid)
	# Until all 50 are in rotation once (in the slow guest a task may flap right after).
	local up=0
	for ((i = 0; i < 600; i++)); do
		[[ $(flipped_in 10.200.0.10:80) == 50 ]] && { up=1; break; }
		sleep 0.2
	done
	((up)) || {
		tail "$W/vipd-$name.out"; ipvsadm -Ln -t 10.200.0.10:80; tail -n 5 "$log"
		lib_fail "$name: 50 backends never all in rotation within $((i / 5)) s"
	}
	[[ $(nsvcs) == $((nvips + 1)) ]] || lib_fail "$name: $(nsvcs) services, not $((nvips + 1))"
	info "$name: daemon up with $((nvips + 1)) VIPs, $((nvips * 10 + 50)) destinations, after $((i / 5)) s"
	# One port flips every 0.2 s, each port in turn (7 is prime to 50): each task changes
	# health every 10 s; its check (every 1 s) sees it within about a second.
	i=0
	end=$((SECONDS + DUR))
	while ((SECONDS < end)); do
		p=$((9000 + (i * 7) % 50))
		if [[ -e $W/www/$p/health ]]; then rm "$W/www/$p/health"; else : >"$W/www/$p/health"; fi
		((i++))
		sleep 0.2
	done
	sleep 2
	info "$name: vipd CPU $(awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.1f s", ($12 + $13) / t }' /proc/$pid/stat) over the run, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	kill -USR1 "$pid"
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	info "$name: $i flips in $DUR s"
	python3 - "$log" "$name" <<'PY'
import json, sys
from datetime import datetime
path, name = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(path) if l.strip()]
def ts(l): return datetime.strptime(l["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
stats = [l for l in lines if l["event"] in ("stats", "stop")]
for l in stats:
    kind = "usr1" if l["event"] == "stats" else "stop"
    for k in ("health_to_kernel_p50_ms", "health_to_kernel_p99_ms", "health_to_kernel_samples",
              "rounds", "ops_applied", "ops_failed", "checks_completed", "timer_lateness_p99_ms",
              "audit_lines_dropped", "health_rounds", "health_round_fallbacks"):
        print("BENCH daemon_%s_%s_%s %s" % (name, kind, k, l[k]))
for l in stats:
    if l["event"] == "stats":
        print("BENCHINFO %s: %d of %d rounds were health rounds (only the changed service "
              "rebuilt and applied), %d fell back to the whole table"
              % (name, l["health_rounds"], l["rounds"], l["health_round_fallbacks"]))
# Cross-check: each task event to the first later ipvs op on that task's destination.
pending, pairs, unmatched = {}, [], 0
for l in lines:
    if l["event"] == "task" and l["app"] == "/flip":
        port = 9000 + int(l["task"].split(".t")[1])
        key = "10.62.0.2:%d" % port
        if key in pending:
            unmatched += 1
        pending[key] = (ts(l), 1 if l["to"] == "healthy" else 0)
    elif l["event"] == "ipvs" and l.get("dest") in pending:
        t0, want = pending[l["dest"]]
        if l.get("weight") == want and l.get("result") == "ok":
            pairs.append((ts(l) - t0) * 1000)
            del pending[l["dest"]]
unmatched += len(pending)
for v in pairs:
    print("BENCH daemon_%s_audit_task_to_ipvs_ms %.0f" % (name, v))
print("BENCHINFO %s: %d task events matched to their ipvs op, %d unmatched" % (name, len(pairs), unmatched))
PY
	ipvsadm -C
	ip link del vipd0 2>/dev/null
	rm -rf /run/vipd
}

lib_log "part B: the daemon, 50 flipping tasks, ${DUR} s"
scenario small 0
lib_log "part B: the daemon, 50 flipping tasks plus 999 static VIPs x 10, ${DUR} s"
scenario big 999
echo "bench/ipvs: done"
