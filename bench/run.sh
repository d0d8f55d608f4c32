#!/usr/bin/env bash
# Builds the benchmarks (RelWithDebInfo, build-bench/), starts the loopback
# backend (haproxy serving a static 200), runs every measurement REPS times,
# and rewrites the generated part of bench/README.md from the raw results
# (build-bench/bench-results/results.jsonl).
#
#   bench/run.sh                 # everything, 3 repetitions
#   REPS=5 bench/run.sh          # more repetitions
#   bench/run.sh --report-only   # re-tabulate the last raw results
#   bench/run.sh --native-vs-shell  # table 2a alone (native curl vs sh+curl at
#                                   # 100 checks/s), spliced into the README
#   bench/run.sh --report-2a-only   # re-tabulate table 2a from its last results
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build-bench}
OUT=$BUILD/bench-results
RESULTS=$OUT/results.jsonl
REPS=${REPS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
WARMUP=${WARMUP:-2}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
BENCH=$BUILD/bench/bench_checks
BACKEND_STATS_PORT=27199
BACKEND_PID=
CHECKER_PID=

log() { printf 'run.sh: %s\n' "$*" >&2; }

stop_pid() {
	local pid=$1
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
}

cleanup() {
	stop_pid "$CHECKER_PID"
	stop_pid "$BACKEND_PID"
}

# utime+stime of a process, in seconds.
proc_cpu() {
	local ticks
	ticks=$(getconf CLK_TCK)
	awk -v t="$ticks" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat"
}

# Requests the backend answered since it started (haproxy `show info` CumReq).
backend_reqs() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$BACKEND_STATS_PORT"
	printf 'show info\n' >&3
	while IFS= read -r line <&3; do
		case $line in CumReq:*) echo "${line#CumReq: }" ;; esac
	done
	exec 3<&-
}

start_backend() {
	"$HAPROXY" -c -q -f "$SRC/bench/haproxy/backend.cfg"
	"$HAPROXY" -Ws -f "$SRC/bench/haproxy/backend.cfg" >"$OUT/backend.log" 2>&1 &
	BACKEND_PID=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null http://127.0.0.1:27180/ && break
		sleep 0.1
	done
	# The worker does the work; -Ws keeps a master process in front of it.
	BACKEND_WORKER=$(pgrep -P "$BACKEND_PID" haproxy | head -1)
	[ -n "$BACKEND_WORKER" ] || BACKEND_WORKER=$BACKEND_PID
	log "backend haproxy master $BACKEND_PID worker $BACKEND_WORKER"
}

# One bench_checks run, its JSON line extended with the backend's CPU and
# requests during the whole run, the load average and the repetition.
bench_run() {
	local group=$1 rep=$2
	shift 2
	local cpu0 req0 cpu1 req1 load line
	load=$(cut -d' ' -f1 /proc/loadavg)
	cpu0=$(proc_cpu "$BACKEND_WORKER")
	req0=$(backend_reqs)
	line=$("$BENCH" "$@" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP")
	cpu1=$(proc_cpu "$BACKEND_WORKER")
	req1=$(backend_reqs)
	line=${line%\}}
	printf '%s, "group": "%s", "rep": %s, "loadavg": %s, "backend_cpu_s": %s, "backend_reqs": %s, "cmd": "bench_checks %s"}\n' \
		"$line" "$group" "$rep" "$load" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')" "$((req1 - req0))" \
		"$*" >>"$RESULTS"
	log "$group #$rep: $(tail -1 "$RESULTS" | cut -c1-160)..."
}

# HAProxy 2.6 as the health checker: 1,000 servers, HTTP check every 100 ms,
# a new connection each, against the same backend. Its CPU over a fixed
# window, divided by the checks the backend answered in that window.
haproxy_checker_run() {
	local rep=$1 cfg=$OUT/checker.cfg cpu0 cpu1 req0 req1 t0 t1 load pid
	{
		cat "$SRC/bench/haproxy/checker.cfg"
		for i in $(seq 0 999); do
			printf '\tserver s%d 127.0.0.1:%d\n' "$i" $((27180 + i % 8))
		done
	} >"$cfg"
	"$HAPROXY" -c -q -f "$cfg"
	"$HAPROXY" -f "$cfg" >"$OUT/checker.log" 2>&1 &
	CHECKER_PID=$!
	pid=$CHECKER_PID
	sleep "$WARMUP"
	load=$(cut -d' ' -f1 /proc/loadavg)
	cpu0=$(proc_cpu "$pid")
	req0=$(backend_reqs)
	t0=$(date +%s.%N)
	sleep "$SECONDS_PER_RUN"
	cpu1=$(proc_cpu "$pid")
	req1=$(backend_reqs)
	t1=$(date +%s.%N)
	stop_pid "$CHECKER_PID"
	CHECKER_PID=
	python3 - "$rep" "$load" "$cpu0" "$cpu1" "$req0" "$req1" "$t0" "$t1" >>"$RESULTS" <<'EOF'
import json, sys
rep, load, c0, c1, r0, r1, t0, t1 = sys.argv[1:]
cpu, n, wall = float(c1) - float(c0), int(r1) - int(r0), float(t1) - float(t0)
print(json.dumps({"mode": "haproxy-checker", "group": "vs-haproxy", "kind": "haproxy",
    "rep": int(rep), "loadavg": float(load), "instances": 1000, "interval_s": 0.1,
    "offered_per_s": 10000.0, "wall_s": wall, "checks": n, "checks_per_s": n / wall,
    "cpu_self_s": cpu, "cpu_children_s": 0.0,
    "cpu_us_per_check": cpu * 1e6 / n if n else 0.0, "cpu_cores": cpu / wall,
    "cmd": "haproxy -f checker.cfg (1,000 servers, check inter 100ms, option httpchk GET /, nbthread 1)"}))
EOF
	log "vs-haproxy haproxy #$rep: $(tail -1 "$RESULTS" | cut -c1-160)..."
}

describe_machine() {
	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "commit: $(git -C "$SRC" rev-parse --short HEAD)$(git -C "$SRC" diff --quiet -- src include || echo ' (working tree has uncommitted src/ changes)')"
		echo "kernel: $(uname -r)"
		echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
		echo "memory: $(free -m | awk '/Mem:/ {print $2}') MiB"
		echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
		echo "haproxy: $("$HAPROXY" -v | head -1)"
		echo "libcurl: $(curl --version | head -1 | cut -d' ' -f1-4)"
		echo "sh: $(readlink -f /bin/sh)"
		echo "user: $(id -un) (COMMAND checks run as nobody)"
	} >"$1"
}

# Table 2a alone, REPS times each path, alternated so that both see the
# same host load.
measure_native_vs_shell() {
	local rep
	: >"$RESULTS"
	describe_machine "$OUT/machine-2a.txt"
	start_backend
	for rep in $(seq "$REPS"); do
		bench_run curl100 "$rep" sched native --instances 10000 --interval 100
		bench_run curl100 "$rep" sched shellcurl --instances 10000 --interval 100
		# The same native runs with every instance at its own phase.
		bench_run curl100 "$rep" sched native --instances 10000 --interval 100 --grid -1
	done
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine-2a.txt"
}

measure() {
	local rep
	: >"$RESULTS"
	describe_machine "$OUT/machine.txt"
	start_backend
	for rep in $(seq "$REPS"); do
		# 1. Each executor at 10,000 instances, offered above what it can do.
		bench_run saturate "$rep" sched http --instances 10000 --interval 0.5
		bench_run saturate "$rep" sched tcp --instances 10000 --interval 0.5
		bench_run saturate "$rep" sched native --instances 10000 --interval 1
		bench_run saturate "$rep" sched command --instances 10000 --interval 2
		# 1b. The same 10,000 instances at a rate every executor keeps up with.
		for k in http tcp native command; do
			bench_run rate1000 "$rep" sched "$k" --instances 10000 --interval 10
		done
		# The backend's ports 27190-27197 answer with a 3-byte body.
		bench_run rate1000 "$rep" sched http --instances 10000 --interval 10 \
			--port-base 27190
		# 2a. Native curl check vs the same command through /bin/sh, at a
		# rate the shell path can sustain on 2 cores.
		bench_run curl100 "$rep" sched native --instances 10000 --interval 100
		bench_run curl100 "$rep" sched shellcurl --instances 10000 --interval 100
		bench_run curl100 "$rep" sched native --instances 10000 --interval 100 --grid -1
		# 2b. HAProxy as checker vs vipd, 1,000 instances every 100 ms.
		haproxy_checker_run "$rep"
		bench_run vs-haproxy "$rep" sched http --instances 1000 --interval 0.1
		# 2c. COMMAND `true` through /bin/sh at 2,000 offered spawns per
		# second with the default in-flight limit (256), and with 32.
		bench_run spawn "$rep" sched command --instances 10000 --interval 5 \
			--probe 0.01
		bench_run spawn "$rep" sched command --instances 10000 --interval 5 \
			--max-in-flight 32 --probe 0.01
		# The native path's pure per-run work (no I/O).
		"$BENCH" micro native --instances 20000 |
			sed "s/}\$/, \"group\": \"micro\", \"rep\": $rep, \"cmd\": \"bench_checks micro native --instances 20000\"}/" \
				>>"$RESULTS"
		# The machine's own cost of `sh -c true`, without vipd.
		"$BENCH" floor command --instances 2000 |
			sed "s/}\$/, \"group\": \"floor\", \"rep\": $rep, \"loadavg\": $(cut -d' ' -f1 /proc/loadavg), \"cmd\": \"bench_checks floor command --instances 2000\"}/" \
				>>"$RESULTS"
		# 3. Idle memory per instance.
		for k in http command; do
			"$BENCH" memory "$k" --instances 10000 |
				sed "s/}\$/, \"group\": \"memory\", \"rep\": $rep, \"cmd\": \"bench_checks memory $k --instances 10000\"}/" \
					>>"$RESULTS"
		done
	done
	syscalls
}

# System calls per check, vipd's HTTP executor vs HAProxy's checker, counted
# by strace -c over a few seconds (strace slows both; the counts per check
# are what matter). Once, not repeated.
syscalls() {
	local req0 req1 cfg=$OUT/checker.cfg pid
	req0=$(backend_reqs)
	strace -f -c -o "$OUT/strace-vipd-http.txt" "$BENCH" sched http --instances 1000 \
		--interval 1 --seconds 4 --warmup 0.5 >/dev/null
	req1=$(backend_reqs)
	echo "$((req1 - req0))" >"$OUT/strace-vipd-http.checks"
	"$HAPROXY" -f "$cfg" >"$OUT/checker.log" 2>&1 &
	CHECKER_PID=$!
	pid=$CHECKER_PID
	sleep 1
	req0=$(backend_reqs)
	timeout -s INT 4 strace -f -c -o "$OUT/strace-haproxy.txt" -p "$pid" || true
	req1=$(backend_reqs)
	echo "$((req1 - req0))" >"$OUT/strace-haproxy.checks"
	stop_pid "$CHECKER_PID"
	CHECKER_PID=
}

# report [2a]: rewrites the generated part of the README; with 2a, only
# table 2a and its target row, from the --native-vs-shell results.
report() {
	local machine=$OUT/machine.txt
	[ "${1:-}" = 2a ] && machine=$OUT/machine-2a.txt
	python3 - "$RESULTS" "$machine" "$SRC/bench/README.md" "$REPS" "$SECONDS_PER_RUN" \
		"$WARMUP" "${1:-all}" <<'EOF'
import json, statistics, sys

results_path, machine_path, readme_path, reps, secs, warm, mode = sys.argv[1:]
rows = [json.loads(l) for l in open(results_path) if l.strip()]
machine = open(machine_path).read().strip()

def sel(group, kind=None, **kw):
    out = []
    for r in rows:
        if r.get("group") != group or (kind and r.get("kind") != kind):
            continue
        if all(r.get(k) == v for k, v in kw.items()):
            out.append(r)
    return out

def med(rs, key):
    v = [r[key] for r in rs if key in r]
    return statistics.median(v) if v else float("nan")

def spread(rs, key, fmt="{:.0f}"):
    v = [r[key] for r in rs if key in r]
    if not v:
        return "n/a"
    m = statistics.median(v)
    return (fmt + " ({}–{})").format(m, fmt.format(min(v)), fmt.format(max(v)))

names = {"http": "HTTP (plain: raw HTTP/1.1 on the loop)", "tcp": "TCP connect",
         "native": "native curl COMMAND", "command": "COMMAND `true` via /bin/sh",
         "shellcurl": "curl COMMAND via /bin/sh (sh+curl+cut)", "haproxy": "HAProxy 2.6 checker"}

def load(rs):
    return spread(rs, "loadavg", "{:.1f}")

def exec_table(group, kinds, extra=None):
    extra = dict(extra or {})
    lines = ["| executor | instances | offered/s | checks/s | CPU µs/check | CPU cores | "
             "backend CPU µs/req | timer late p50 / p99 ms | outcome | load avg |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for k in kinds:
        label = names.get(k, k)
        want = dict(extra)
        if k == "http-body":
            k, label = "http", "HTTP, 3-byte body"
            want["port_base"] = 27190
        elif k in ("http", "tcp", "native"):
            want["port_base"] = 27180
        grid_off = k == "native-nogrid"
        if grid_off:
            k, label = "native", "native curl COMMAND, phase grid off (`--grid -1`)"
            want["port_base"] = 27180
        rs = [r for r in sel(group, k, **want) if (r.get("phase_grid_s", 0) < 0) == grid_off]
        if not rs:
            continue
        for r in rs:
            n = r.get("backend_reqs") or 0
            r["backend_us_per_req"] = r.get("backend_cpu_s", 0) * 1e6 / n if n else 0.0
        outc = sorted({o for r in rs for o in r.get("outcomes", {})})
        lines.append("| {} | {} | {:.0f} | {} | {} | {} | {} | {} / {} | {} | {} |".format(
            label, rs[0]["instances"], rs[0]["offered_per_s"],
            spread(rs, "checks_per_s"), spread(rs, "cpu_us_per_check", "{:.1f}"),
            spread(rs, "cpu_cores", "{:.2f}"),
            # TCP checks send no request; HAProxy's run has no backend CPU.
            spread(rs, "backend_us_per_req", "{:.1f}") if k in ("http", "native", "shellcurl")
            else "–",
            spread(rs, "sched_late_p50_ms", "{:.1f}"), spread(rs, "sched_late_p99_ms", "{:.1f}"),
            ", ".join(outc), load(rs)))
    cmds = sorted({r["cmd"] for r in sel(group) if r.get("kind") in names})
    lines.append("")
    lines.append("Commands: " + "; ".join("`" + c + f" --seconds {secs} --warmup {warm}`"
                                         for c in cmds))
    return "\n".join(lines)

def m(group, kind, key, **kw):
    return med(sel(group, kind, **kw), key)

def target_2a():
    sh = m("curl100", "shellcurl", "cpu_us_per_check")
    nat = med([r for r in sel("curl100", "native") if r.get("phase_grid_s", 0) >= 0],
              "cpu_us_per_check")
    late = med([r for r in sel("curl100", "native") if r.get("phase_grid_s", 0) >= 0],
               "sched_late_p99_ms")
    ratio = sh / nat if nat else float("nan")
    met = ratio >= 100 and late < 5
    return (f"| native curl check ≥ 100× less CPU than through the shell, timer lateness p99 < 5 ms "
            f"| {sh:.0f} µs / {nat:.1f} µs = **{ratio:.0f}×**, lateness p99 **{late:.1f} ms** "
            f"(100 checks/s, table 2a) | {'yes' if met else 'NO'} |")

H2A = "### 2a. Native curl COMMAND vs the same command through /bin/sh, 100 checks/s\n"
if mode == "2a":
    # Splice table 2a (with its own run's description) and its target row
    # into the generated part; the other tables stay as their run left them.
    text = open(readme_path).read()
    a, b = text.index(H2A), text.index("\n### 2b.")
    section = (H2A + f"\nFrom its own run, `bench/run.sh --native-vs-shell` (REPS={reps}, {secs} s "
               f"measured after {warm} s warm-up per run, the two paths alternated), not the "
               "run of the other tables:\n\n```\n" + machine + "\n```\n\n" +
               exec_table("curl100", ["native", "shellcurl", "native-nogrid"]) + "\n")
    text = text[:a] + section + text[b:]
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("| native curl check ≥ 100×"):
            lines[i] = target_2a()
    open(readme_path, "w").write("\n".join(lines))
    print(target_2a())
    sys.exit(0)

out = []
out.append(f"Generated by `bench/run.sh` (REPS={reps}, {secs} s measured after {warm} s "
           "warm-up per run). Every cell: median (min–max) over the repetitions.\n")
out.append("```\n" + machine + "\n```\n")

out.append("### 1. Executors at 10,000 check instances, offered above capacity\n")
out.append(exec_table("saturate", ["http", "tcp", "native", "command"]))
out.append("\n### 1b. The same 10,000 instances at 1,000 checks/s offered\n")
out.append(exec_table("rate1000", ["http", "http-body", "tcp", "native", "command"]))
out.append("\n" + H2A)
out.append(exec_table("curl100", ["native", "shellcurl", "native-nogrid"]))
out.append("\n### 2b. vipd HTTP checks vs HAProxy 2.6 as checker, 1,000 instances every 100 ms\n")
out.append(exec_table("vs-haproxy", ["haproxy", "http"]))
out.append("\n### 2c. COMMAND `true` through /bin/sh, 2,000 spawns/s offered\n")
lines = ["| in-flight limit | checks/s | CPU µs/check | timer late p50 ms | timer late p99 ms | "
         "p99, worst window, ms | timer late max ms | loop probe p99 ms | wall s for a 10 s window | "
         "load avg |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for lim in (256, 32):
    rs = sel("spawn", "command", max_in_flight=lim)
    if not rs:
        continue
    lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
        lim, spread(rs, "checks_per_s"), spread(rs, "cpu_us_per_check", "{:.0f}"),
        spread(rs, "sched_late_p50_ms", "{:.0f}"), spread(rs, "sched_late_p99_ms", "{:.0f}"),
        spread(rs, "sched_late_p99_worst_ms", "{:.0f}"), spread(rs, "sched_late_max_ms", "{:.0f}"),
        spread(rs, "probe_late_p99_ms", "{:.0f}"), spread(rs, "wall_s", "{:.1f}"), load(rs)))
rs = [r for r in rows if r.get("group") == "floor"]
if rs:
    lines.append("| none: `sh -c true` spawned and waited for one at a time, no vipd "
                 "(`bench_checks floor command --instances 2000`) | {} sequential | {} (children only) "
                 "| | | | | | | {} |".format(spread(rs, "spawns_per_s_sequential"),
                                    spread(rs, "child_cpu_us_per_spawn"), load(rs)))
lines.append("")
lines.append("Commands: " + "; ".join(sorted({"`" + r["cmd"] + f" --seconds {secs} --warmup {warm}`"
                                             for r in sel("spawn", "command")})))
out.append("\n".join(lines))

out.append("\n### 3. Idle memory, 10,000 instances (intervals and delays of one hour)\n")
lines = ["| check kind | model RSS B/instance | scheduler RSS B/instance | scheduler heap B/instance | "
         "scheduler structs B/instance (malloc'd) | sizeof sched_inst / sched_task / health_check_state |",
         "|---|---:|---:|---:|---:|---|"]
for k in ("http", "command"):
    rs = sel("memory", k)
    if not rs:
        continue
    r = rs[0]
    lines.append("| {} | {} | {} | {} | {} | {} / {} / {} |".format(
        k, spread(rs, "model_rss_per_instance_b"), spread(rs, "sched_rss_per_instance_b"),
        spread(rs, "sched_heap_per_instance_b"), r["sched_structs_per_instance_b"],
        r["sizeof_sched_inst"], r["sizeof_sched_task"], r["sizeof_health_check_state"]))
lines.append("")
lines.append("Commands: `bench_checks memory http --instances 10000`; "
             "`bench_checks memory command --instances 10000`")
out.append("\n".join(lines))

out.append("\n### 4. Where the CPU goes\n")
rs = [r for r in rows if r.get("group") == "micro"]
if rs:
    out.append("Native curl path, pure work per run (no I/O), `bench_checks micro native "
               "--instances 20000`: `curlcmd_recognise` {} µs per call (runner_start calls it "
               "once per run, in native_plan), `curlcmd_url_expand` "
               "{} µs.\n".format(spread(rs, "recognise_us", "{:.1f}"),
                                 spread(rs, "url_expand_us", "{:.2f}")))
import os
def strace_counts(name):
    path = os.path.join(os.path.dirname(results_path), "strace-" + name + ".txt")
    cpath = os.path.join(os.path.dirname(results_path), "strace-" + name + ".checks")
    if not os.path.exists(path) or not os.path.exists(cpath):
        return None, {}
    n = int(open(cpath).read().strip() or 0)
    calls = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    return n, calls
nv, cv = strace_counts("vipd-http")
nh, ch = strace_counts("haproxy")
if nv and nh:
    names_all = sorted(set(cv) | set(ch), key=lambda k: -(cv.get(k, 0) / nv + ch.get(k, 0) / nh))
    lines = ["System calls per HTTP check (strace -c -f; checks counted by the backend): vipd "
             f"{sum(cv.values()) / nv:.1f}, HAProxy 2.6 {sum(ch.values()) / nh:.1f}.\n",
             "| syscall | vipd per check | HAProxy per check |", "|---|---:|---:|"]
    for k in names_all:
        a, b = cv.get(k, 0) / nv, ch.get(k, 0) / nh
        if a >= 0.05 or b >= 0.05:
            lines.append(f"| {k} | {a:.2f} | {b:.2f} |")
    lines.append("")
    lines.append(f"vipd: `strace -f -c bench_checks sched http --instances 1000 --interval 1 "
                 f"--seconds 4 --warmup 0.5` ({nv} checks); HAProxy: `strace -f -c -p <checker>` "
                 f"for 4 s ({nh} checks).")
    out.append("\n".join(lines))

# Targets.
t = ["| target | measured | met? |", "|---|---|---|"]
t.append(target_2a())
hv, hh = m("vs-haproxy", "http", "cpu_us_per_check"), m("vs-haproxy", "haproxy", "cpu_us_per_check")
t.append(f"| vipd HTTP CPU/check ≤ HAProxy's, same backend, 1,000 × 100 ms | vipd {hv:.1f} µs vs "
         f"HAProxy {hh:.1f} µs = **{hv / hh:.2f}×** (table 2b) | {'yes' if hv <= hh else 'NO'} |")
sp = m("spawn", "command", "checks_per_s", max_in_flight=256)
sp32 = m("spawn", "command", "checks_per_s", max_in_flight=32)
t.append(f"| COMMAND `true` ≥ 1,500 spawns/s (in-flight 256) | **{sp:.0f}/s** of 2,000 offered "
         f"({sp32:.0f}/s with limit 32) (table 2c) | {'yes' if sp >= 1500 else 'NO'} |")
lp = m("spawn", "command", "sched_late_p99_ms", max_in_flight=256)
lp32 = m("spawn", "command", "sched_late_p99_ms", max_in_flight=32)
t.append(f"| timer lateness p99 < 10 ms while spawning | **{lp:.1f} ms** ({lp32:.1f} ms with "
         f"limit 32) (table 2c) | {'yes' if lp < 10 else 'NO'} |")
targets = "\n".join(t)

body = ("<!-- BEGIN generated by bench/run.sh -->\n### Targets\n\n" + targets + "\n\n" +
        "\n".join(out) + "\n<!-- END generated by bench/run.sh -->")
text = open(readme_path).read()
a, b = text.index("<!-- BEGIN generated"), text.index("<!-- END generated by bench/run.sh -->")
text = text[:a] + body + text[b + len("<!-- END generated by bench/run.sh -->"):]
open(readme_path, "w").write(text)
print(targets)
EOF
}

mkdir -p "$OUT"
build_bench() {
	# An existing tree keeps its generator (scripts/build.sh makes Makefiles).
	[ -f "$BUILD/CMakeCache.txt" ] ||
		cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$BUILD" --target bench_checks >/dev/null
	ulimit -n "$(ulimit -Hn)"
}
case "${1:-}" in
--report-only)
	report
	;;
--report-2a-only)
	RESULTS=$OUT/results-2a.jsonl report 2a
	;;
--native-vs-shell)
	RESULTS=$OUT/results-2a.jsonl
	trap cleanup EXIT INT TERM
	build_bench
	measure_native_vs_shell
	report 2a
	;;
*)
	trap cleanup EXIT INT TERM
	build_bench
	measure
	report
	;;
esac
