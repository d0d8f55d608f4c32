#!/usr/bin/env bash
# The cost of a /metrics scrape at scale: vipd --no-ipvs with 1,000 VIPs x 10
# backends (TCP checks every 30 s to closed loopback ports: every check runs,
# fails fast with a RST, nothing answers), its API on loopback. Alternates two
# phases of DURATION seconds, REPS times:
#   idle    nobody asks the API anything;
#   scraped curl GETs /metrics once a second (as Prometheus would).
# After each phase vipd gets SIGUSR1 and its `stats` audit line gives the
# check-timer lateness p99 (docs/audit-log.md: over the scheduler's last
# 8,192 runs, about the last 27 s at 300 checks/s). Each scrape's loop time
# is measured by vipd itself: vipd_api_request_duration_seconds{path="/metrics"}
# counts a scrape once answered, so the growth of its _sum from one scrape's
# body to the next is the loop time of the earlier scrape (building the
# body, on the loop); vipd_api_request_cpu_seconds_total gives the loop
# thread's CPU time in the same span (without the time the host gave other
# processes). curl's time_total on loopback (connect, that, the transfer)
# is shown beside them.
# Prints one Markdown table row per phase. Not a CTest test: timings only.
#
#   bench/metrics_scrape.sh                      # build/, 30 s phases, 2 reps
#   BUILD=build-bench DURATION=60 REPS=3 bench/metrics_scrape.sh
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
DURATION=${DURATION:-30}
REPS=${REPS:-2}
VIPS=${VIPS:-1000}
BACKENDS=${BACKENDS:-10}
INTERVAL=${INTERVAL:-30}
WARMUP=${WARMUP:-$((INTERVAL + 10))}
# below the ephemeral range, away from the unit tests' 5000-9999
API=${API:-$((20000 + RANDOM % 5000))}
# closed ports on loopback (checked below): the checks get a RST at once
PORT0=${PORT0:-1001}
TMP=$(mktemp -d)
VIPD_PID=
trap '[ -n "$VIPD_PID" ] && kill $VIPD_PID 2>/dev/null; rm -rf "$TMP"' EXIT

log() { printf 'metrics_scrape.sh: %s\n' "$*" >&2; }

gen_apps() { # one file, a JSON array of VIPS apps
	python3 - "$VIPS" "$BACKENDS" "$INTERVAL" "$PORT0" >"$TMP/apps.json" <<'PY'
import json, sys
vips, backends, interval, port0 = map(int, sys.argv[1:])
apps = []
for i in range(vips):
    apps.append({
        "id": f"/bench/svc{i}",
        "portDefinitions": [{"port": 0, "labels": {"VIP_0": f"/bench/svc{i}:80"}}],
        "healthChecks": [{"protocol": "TCP", "portIndex": 0, "intervalSeconds": interval,
                          "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0,
                          "maxConsecutiveFailures": 0}],
        "tasks": [{"id": f"svc{i}.t{j}", "host": "127.0.0.1", "ports": [port0 + j]}
                  for j in range(backends)],
    })
json.dump(apps, sys.stdout)
PY
}

check_ports_closed() {
	local p
	for ((p = PORT0; p < PORT0 + BACKENDS; p++)); do
		if ss -Htln "sport = :$p" | grep -q .; then
			log "port $p is open on this host: set PORT0"; exit 1
		fi
	done
}

# stats FIELD...: SIGUSR1, then those fields of the new `stats` audit line
stats() {
	local before
	before=$(grep -c '"stats"' "$TMP/audit.log" || true)
	kill -USR1 "$VIPD_PID"
	for _ in $(seq 50); do
		[ "$(grep -c '"stats"' "$TMP/audit.log" || true)" -gt "$before" ] && break
		sleep 0.1
	done
	grep '"stats"' "$TMP/audit.log" | tail -1 |
		python3 -c "import json,sys; d=json.load(sys.stdin); print(*[d[k] for k in sys.argv[1:]])" "$@"
}

# scrape_for SECONDS: one GET /metrics a second; per line curl's time_total
# (s), the body's size, and the body's /metrics request _count, _sum and CPU
scrape_for() {
	local end=$((SECONDS + $1)) timing
	while [ $SECONDS -lt $end ]; do
		timing=$(curl -s -o "$TMP/metrics" --max-time 5 -w '%{time_total} %{size_download}' \
			"http://127.0.0.1:$API/metrics")
		echo "$timing $(awk '$1 == "vipd_api_request_duration_seconds_count{path=\"/metrics\"}" {c = $2}
			$1 == "vipd_api_request_duration_seconds_sum{path=\"/metrics\"}" {s = $2}
			$1 == "vipd_api_request_cpu_seconds_total{path=\"/metrics\"}" {u = $2}
			END {print c, s, u}' "$TMP/metrics")" >>"$TMP/scrapes"
		sleep 1
	done
}

row() { # phase
	local p99 done
	read -r p99 done < <(stats timer_lateness_p99_ms checks_completed)
	if [ "$1" = scraped ]; then
		python3 - "$TMP/scrapes" "$p99" "$done" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def ranks(v):  # nearest rank: p50, p99, max
    v = sorted(v)
    n = len(v)
    return v[(n + 1) // 2 - 1], v[max(0, -(-99 * n // 100) - 1)], v[-1]
t = ranks(float(r[0]) * 1000 for r in rows)
# The loop time of scrape i: its sum's growth seen in scrape i+1's body.
pairs = [(a, b) for a, b in zip(rows, rows[1:]) if int(b[2]) - int(a[2]) == 1]
loop = ranks((float(b[3]) - float(a[3])) * 1000 for a, b in pairs)
cpu = ranks((float(b[4]) - float(a[4])) * 1000 for a, b in pairs)
print(f"| scraped 1/s | {len(rows)} | {int(rows[-1][1]) // 1024} KiB | {loop[0]:.2f} | {loop[1]:.2f} | {loop[2]:.2f} | "
      f"{cpu[0]:.2f} | {cpu[2]:.2f} | {t[0]:.1f} | {t[1]:.1f} | {t[2]:.1f} | {sys.argv[2]} | {sys.argv[3]} |")
PY
	else
		echo "| idle | 0 | - | - | - | - | - | - | - | - | - | $p99 | $done |"
	fi
}

main() {
	check_ports_closed
	gen_apps
	echo "{\"api\": {\"listen\": \"$API\"}}" >"$TMP/vipd.json"
	"$BUILD/vipd" -c "$TMP/vipd.json" --no-ipvs --apps "$TMP/apps.json" --audit "$TMP/audit.log" \
		2>"$TMP/vipd.err" &
	VIPD_PID=$!
	log "vipd $VIPD_PID: $VIPS VIPs x $BACKENDS backends, TCP checks every ${INTERVAL}s; warm-up ${WARMUP}s"
	sleep "$WARMUP"
	kill -0 "$VIPD_PID" || { cat "$TMP/vipd.err" >&2; exit 1; }
	echo "| phase (${DURATION} s) | scrapes | body | loop p50 ms | loop p99 ms | loop max ms | loop CPU p50 ms | loop CPU max ms | curl p50 ms | curl p99 ms | curl max ms | timer lateness p99 ms | checks completed (cumulative) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for _ in $(seq "$REPS"); do
		sleep "$DURATION"
		row idle
		: >"$TMP/scrapes"
		scrape_for "$DURATION"
		row scraped
	done
	grep -c '^vipd_vip_backends{' "$TMP/metrics" | sed 's/^/vipd_vip_backends samples in the last scrape: /' >&2
}

main
