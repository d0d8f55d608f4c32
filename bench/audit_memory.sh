#!/usr/bin/env bash
# vipctl audit reads a log in constant memory (issue 12 item 1): the same
# 64 MiB of realistic lines (2,000 tasks of 50 apps flapping, with their check,
# task and kernel lines) read once, then 16 times over from stdin (1 GiB), by
# the timeline (with a filter that prints little), --report and --verify; the
# peak RSS must not grow with the size read.
#   bench/audit_memory.sh [BUILD_DIR]   (a release tree: scripts/build.sh build)
# Measured 2026-12-01 (RelWithDebInfo, the shared 2-core machine), peak RSS:
#   --app /app07   64 MiB:  9,544 KiB   1 GiB:  9,488 KiB (27 s)
#   --report       64 MiB: 10,944 KiB   1 GiB: 11,028 KiB (24 s)
#   --verify       64 MiB: 10,192 KiB   1 GiB: 10,000 KiB (27 s)
set -euo pipefail
build=${1:-build}
vipctl="$build/vipctl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp/chunk.log" <<'PY'
import json, random, sys
random.seed(1)
out = open(sys.argv[1], "w")
t, seq, size = 1764150000.0, 0, 0
health = {}
def line(event, **kw):
    global seq, size
    seq += 1
    ms = int(t * 1000)
    d = {"v": 1, "ts": "%s.%03dZ" % (__import__("time").strftime("%Y-%m-%dT%H:%M:%S", __import__("time").gmtime(ms // 1000)), ms % 1000),
         "seq": seq, "event": event}
    d.update(kw)
    s = json.dumps(d, separators=(",", ":")) + "\n"
    size += len(s)
    out.write(s)
while size < 64 << 20:
    t += 0.05
    i = random.randrange(2000)
    app, task = "/app%02d" % (i % 50), "task.%04d" % i
    host, port = "10.%d.%d.%d" % (1 + i // 65536, (i // 256) % 256, i % 256), 31000 + i % 7
    frm = health.get(i, "unknown")
    to = "unhealthy" if frm == "healthy" else "healthy"
    health[i] = to
    line("check", app=app, task=task, check=0, protocol="HTTP", **{"from": frm}, to=to, rule="failure" if to != "healthy" else "success",
         outcome="http_status" if to != "healthy" else "ok", http_status=503 if to != "healthy" else 200, latency_ms=1.2,
         path="direct", consecutive_failures=1 if to != "healthy" else 0, output="HTTP 503 from upstream %d" % i if to != "healthy" else "")
    line("task", app=app, task=task, **{"from": frm}, to=to, rule="check_unhealthy" if to != "healthy" else "all_checks_healthy",
         check=0, host=host, ports=[port])
    w = 0 if to != "healthy" else 1
    line("ipvs", op="edit_dest" if frm != "unknown" else "add_dest", service="TCP 11.0.%d.1:80" % (i % 50),
         text="edit dest", dest="%s:%d" % (host, port), weight=w, result="ok")
PY

measure() { # label times args...
  local label=$1 times=$2; shift 2
  local start end rss
  start=$(date +%s.%N)
  rss=$( { for _ in $(seq "$times"); do cat "$tmp/chunk.log"; done | /usr/bin/time -f %M "$vipctl" audit "$@" - >/dev/null; } 2>&1 | tail -1)
  end=$(date +%s.%N)
  printf '%-28s %5d MiB read  peak RSS %6d KiB  %6.1f s\n' "$label" $((64 * times)) "$rss" "$(echo "$end - $start" | bc)"
}
for mode in "--app /app07" "--report" "--verify"; do
  # shellcheck disable=SC2086
  measure "$mode" 1 $mode
  # shellcheck disable=SC2086
  measure "$mode" 16 $mode
done
