#!/usr/bin/env bash
# A vipd following a 100-node cluster through a real etcd on loopback (issue
# 9, "Scale"). Starts etcd (3.4, data dir in a temp dir), publisher.py
# simulating NODES x TASKS backends over VIPS named VIPs (one lease per
# node, kept alive), then measures a real vipd (--no-ipvs: the kernel
# programming part is excluded; the audit log's `planned` ipvs lines are the
# plan) with its own small app (one task, TCP check, published like any
# node's):
#   converge  REPS times: a new vipd (no state file) from start to the last
#             of the remote backends' add_dest in its plan; CPU and VmHWM then
#   idle      IDLE s with FOLLOWERS more vipd nodes following too: etcd's
#             write counters (its /metrics) and the vipd's CPU
#   change    CHANGES health flips, one every GAP s: put -> etcd's answer
#             (commit) -> the vipd's cluster_backend line -> its ipvs line
#   burst     BURST flips at BURST_RATE/s: the same latencies, CPU, VmHWM
# Writes the Markdown tables to stdout and $OUT/report.md; raw data in $OUT.
# Not a CTest test: timings only. Everything it starts is stopped on exit.
#
#   bench/cluster/run.sh                      # builds build-bench/ if needed
#   NODES=10 TASKS=100 VIPS=100 REPS=2 IDLE=10 bench/cluster/run.sh   # quick
#   APPS=shared bench/cluster/run.sh          # every node reads all apps
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build-bench}
OUT=${OUT:-$BUILD/bench-results/cluster}
NODES=${NODES:-100}
TASKS=${TASKS:-1000}
VIPS=${VIPS:-1000}
REPS=${REPS:-5}
IDLE=${IDLE:-60}
FOLLOWERS=${FOLLOWERS:-2}
CHANGES=${CHANGES:-100}
GAP=${GAP:-0.5}
BURST=${BURST:-3000}
BURST_RATE=${BURST_RATE:-100}
TTL=${TTL:-10}
APPS=${APPS:-local}
TMP=$(mktemp -d)
declare -A PIDS=()

log() { printf 'cluster/run.sh: %s\n' "$*" >&2; }

cleanup() {
	local p
	exec 3>&- 2>/dev/null || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cpu_s() { # utime+stime of a process, in seconds
	awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat"
}
mem_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

build() {
	if [ ! -x "$BUILD/vipd" ]; then
		log "building vipd (RelWithDebInfo) in $BUILD"
		"$SRC/scripts/build.sh" "$BUILD"
	fi
	mkdir -p "$OUT"
	rm -f "$OUT"/*.jsonl "$OUT"/*.audit
}

start_etcd() {
	local peer
	peer=$(free_port)
	ETCD=http://127.0.0.1:$(free_port)
	# 100,000 keys in txns of 500 puts; the quota leaves room for the
	# revisions the changes add.
	etcd --name bench --data-dir "$TMP/etcd" \
		--listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
		--listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
		--initial-cluster "bench=http://127.0.0.1:$peer" \
		--quota-backend-bytes $((8 * 1024 * 1024 * 1024)) --max-txn-ops 1000 \
		--max-request-bytes $((16 * 1024 * 1024)) >"$TMP/etcd.log" 2>&1 &
	PIDS[etcd]=$!
	for _ in $(seq 100); do
		curl -sf "$ETCD/health" >/dev/null && return 0
		sleep 0.1
	done
	cat "$TMP/etcd.log" >&2
	log "etcd never got healthy"
	exit 1
}

start_publisher() {
	mkfifo "$TMP/ctl"
	python3 "$SRC/bench/cluster/publisher.py" publish --endpoint "$ETCD" --nodes "$NODES" \
		--tasks "$TASKS" --vips "$VIPS" --ttl "$TTL" --status "$TMP/status" \
		<"$TMP/ctl" 2>"$TMP/publisher.err" &
	PIDS[publisher]=$!
	exec 3>"$TMP/ctl"
	wait_status loaded 0 1800
	read -r _ LOADED_KEYS LOADED_S < <(grep '^loaded' "$TMP/status")
	log "publisher: $LOADED_KEYS keys in ${LOADED_S}s"
}

count() { # pattern file: matching lines, 0 when the file does not exist yet
	if [ -f "$2" ]; then grep -c -- "$1" "$2" || true; else echo 0; fi
}
status_count() { count "^$1" "$TMP/status"; }

wait_status() { # word n seconds: until the publisher's status file has more than n lines with it
	for _ in $(seq $(($3 * 10))); do
		[ "$(status_count "$1")" -gt "$2" ] && return 0
		kill -0 "${PIDS[publisher]}" 2>/dev/null || { cat "$TMP/publisher.err" >&2; exit 1; }
		sleep 0.1
	done
	log "publisher: no '$1' within $3 s"
	exit 1
}

# A simulated node whose lease etcd let expire has lost its keys: what
# follows would measure a different cluster.
leases_held() {
	if [ "$(status_count lost)" -gt 0 ]; then
		log "etcd let $(status_count lost) simulated nodes' leases expire (host too loaded?): run void"
		exit 1
	fi
}

start_local_backend() {
	BPORT=$(free_port)
	python3 "$SRC/examples/backends/backend.py" --tcp "$BPORT" >/dev/null 2>&1 &
	PIDS[backend]=$!
}

write_apps() { # the node-local source: this node's app; shared: every node's apps too
	mkdir -p "$TMP/apps"
	cat >"$TMP/apps/local.json" <<JSON
{"id": "/bench/local", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/bench/local:80"}}],
 "healthChecks": [{"protocol": "TCP", "portIndex": 0, "intervalSeconds": 2, "timeoutSeconds": 1,
                   "gracePeriodSeconds": 0, "delaySeconds": 0, "maxConsecutiveFailures": 3}],
 "tasks": [{"id": "bench_local.1", "host": "127.0.0.1", "ports": [$BPORT]}]}
JSON
	if [ "$APPS" = shared ]; then
		python3 "$SRC/bench/cluster/publisher.py" apps --nodes "$NODES" --tasks "$TASKS" \
			--vips "$VIPS" >"$TMP/apps/cluster.json"
	fi
}

start_vipd() { # name: a node with this host's tasks; its start time in $TMP/name.t0
	local name=$1
	rm -f "$TMP/$name.state" "$TMP/$name.audit"
	cat >"$TMP/$name.json" <<JSON
{"lb": {"state_file": "$TMP/$name.state"},
 "cluster": {"hosts": ["127.0.0.1"], "endpoints": ["$ETCD"], "lease_ttl": $TTL}}
JSON
	date +%s.%N >"$TMP/$name.t0"
	"$BUILD/vipd" -c "$TMP/$name.json" --no-ipvs --apps "$TMP/apps" --audit "$TMP/$name.audit" \
		--node "$name" 2>>"$TMP/$name.err" &
	PIDS[$name]=$!
}

stop_vipd() {
	kill -TERM "${PIDS[$1]}"
	wait "${PIDS[$1]}" || log "$1 exited with $?"
	unset "PIDS[$1]"
}

remote_planned() { # add_dest lines of the simulated nodes' backends (10.1.x.y)
	count '"op":"add_dest".*"dest":"10\.1\.' "$TMP/$1.audit"
}

wait_converged() { # name seconds
	local want=$((NODES * TASKS))
	for _ in $(seq $(($2 * 5))); do
		[ "$(remote_planned "$1")" -ge "$want" ] && return 0
		kill -0 "${PIDS[$1]}" 2>/dev/null || { cat "$TMP/$1.err" >&2; exit 1; }
		sleep 0.2
	done
	log "$1: $(remote_planned "$1") of $want remote backends planned after $2 s"
	exit 1
}

converge() {
	local r cpu hwm
	for r in $(seq "$REPS"); do
		start_vipd bench
		wait_converged bench 600
		cpu=$(cpu_s "${PIDS[bench]}")
		hwm=$(mem_kib "${PIDS[bench]}" VmHWM)
		python3 "$SRC/bench/cluster/report.py" converge "$TMP/bench.audit" "$(cat "$TMP/bench.t0")" \
			"$cpu" "$hwm" "$(loadavg)" >>"$OUT/converge.jsonl"
		log "converge $r: $(tail -1 "$OUT/converge.jsonl")"
		[ "$r" -lt "$REPS" ] && stop_vipd bench
	done
	cp "$TMP/bench.audit" "$OUT/bench-converge.audit"
}

etcd_counters() { # the write and lease counters of etcd's /metrics, one JSON object
	curl -sf "$ETCD/metrics" | python3 -c '
import json, sys
want = ("etcd_debugging_mvcc_put_total", "etcd_debugging_mvcc_delete_total",
        "etcd_debugging_mvcc_txn_total", "etcd_server_proposals_committed_total",
        "etcd_debugging_lease_renewed_total", "etcd_mvcc_put_total", "etcd_mvcc_delete_total",
        "etcd_mvcc_txn_total")
out = {}
for line in sys.stdin:
    k = line.split(" ")[0]
    if k in want:
        out[k] = float(line.split()[-1])
print(json.dumps(out))'
}

live_count() { # live/<node> keys in etcd
	curl -sf "$ETCD/v3/kv/range" -d "{\"key\": \"$(printf /vipd/v1/live/ | base64)\",
		\"range_end\": \"$(printf /vipd/v1/live0 | base64)\", \"count_only\": true}" |
		python3 -c 'import json, sys; print(json.load(sys.stdin).get("count", 0))'
}

wait_live() { # count seconds: every node (simulated and real) has published once
	for _ in $(seq $(($2 * 5))); do
		[ "$(live_count)" -ge "$1" ] && return 0
		sleep 0.2
	done
	log "only $(live_count) of $1 nodes' live keys after $2 s"
	exit 1
}

idle() {
	local f before after c0 c1 lines0 lines1 t0 t1
	for f in $(seq "$FOLLOWERS"); do # one at a time: each reads the whole prefix
		start_vipd "follower$f"
		wait_converged "follower$f" 600
	done
	wait_live $((NODES + FOLLOWERS + 1)) 120
	sleep 2
	before=$(etcd_counters)
	c0=$(cpu_s "${PIDS[bench]}")
	lines0=$(wc -l <"$TMP/bench.audit")
	t0=$(date +%s.%N)
	sleep "$IDLE"
	t1=$(date +%s.%N)
	c1=$(cpu_s "${PIDS[bench]}")
	lines1=$(wc -l <"$TMP/bench.audit")
	after=$(etcd_counters)
	python3 "$SRC/bench/cluster/report.py" idle "$before" "$after" "$t0" "$t1" "$c0" "$c1" \
		"$(mem_kib "${PIDS[bench]}" VmRSS)" "$(mem_kib "${PIDS[bench]}" VmHWM)" \
		$((lines1 - lines0)) "$(loadavg)" $((FOLLOWERS + 1)) "$NODES" "$TTL" >>"$OUT/idle.jsonl"
	log "idle: $(tail -1 "$OUT/idle.jsonl")"
	for f in $(seq "$FOLLOWERS"); do stop_vipd "follower$f"; done
}

changes() { # phase count gap
	local c0 c1 t0 t1 n
	n=$(status_count done)
	c0=$(cpu_s "${PIDS[bench]}")
	t0=$(date +%s.%N)
	echo "flip $2 $3 $OUT/$1-flips.jsonl" >&3
	wait_status done "$n" 1800
	sleep 3 # the last change reaches the plan
	t1=$(date +%s.%N)
	c1=$(cpu_s "${PIDS[bench]}")
	python3 "$SRC/bench/cluster/report.py" changes "$1" "$OUT/$1-flips.jsonl" "$TMP/bench.audit" \
		"$t0" "$t1" "$c0" "$c1" "$(mem_kib "${PIDS[bench]}" VmHWM)" "$(loadavg)" \
		"$3" >>"$OUT/changes.jsonl"
	log "$1: $(tail -1 "$OUT/changes.jsonl")"
}

main() {
	build
	start_etcd
	log "etcd $ETCD; publishing $NODES nodes x $TASKS tasks over $VIPS VIPs"
	start_publisher
	start_local_backend
	write_apps
	converge
	leases_held
	idle
	leases_held
	changes change "$CHANGES" "$GAP"
	leases_held
	changes burst "$BURST" "$(python3 -c "print(1 / $BURST_RATE)")"
	leases_held
	cp "$TMP/bench.audit" "$OUT/bench.audit"
	stop_vipd bench
	grep -q "ERROR: AddressSanitizer\|runtime error" "$TMP"/*.err && log "sanitizer errors: see $TMP"
	python3 "$SRC/bench/cluster/report.py" tables "$OUT" "$NODES" "$TASKS" "$VIPS" "$APPS" \
		"$LOADED_KEYS" "$LOADED_S" "$(etcd --version | head -1)" | tee "$OUT/report.md"
}

main "$@"
