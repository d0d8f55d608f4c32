#!/usr/bin/env bash
# The cost of a /metrics scrape at scale: vipd --no-ipvs with 1,000 VIPs x 10
# backends (TCP checks every 30 s to closed loopback ports: every check runs,
# fails fast with a RST, nothing answers), its API on loopback. Alternates two
# phases of DURATION seconds, REPS times:
#   idle    nobody asks the API anything;
#   scraped curl GETs /metrics once a second (as Prometheus would).
# After each phase vipd gets SIGUSR1 and its `stats` audit line gives the
# check-timer lateness p99 (docs/audit-log.md: over the scheduler's last
# 8,192 runs, about the last 27 s at 300 checks/s). curl's time_total of each
# scrape on loopback is an upper bound of the loop time the scrape took (the
# API builds the body on the loop and writes it; the API has no request timer).
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

# scrape_for SECONDS: one GET /metrics a second; time_total (ms) per line
scrape_for() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		curl -s -o "$TMP/metrics" --max-time 5 -w '%{time_total} %{size_download}\n' \
			"http://127.0.0.1:$API/metrics" >>"$TMP/scrapes"
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
t = sorted(float(r[0]) * 1000 for r in rows)
n = len(t)
p50 = t[(n + 1) // 2 - 1]
p99 = t[max(0, -(-99 * n // 100) - 1)]
print(f"| scraped 1/s | {n} | {int(rows[-1][1]) // 1024} KiB | {p50:.1f} | {p99:.1f} | {t[-1]:.1f} | {sys.argv[2]} | {sys.argv[3]} |")
PY
	else
		echo "| idle | 0 | - | - | - | - | $p99 | $done |"
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
	echo "| phase (${DURATION} s) | scrapes | body | scrape p50 ms | scrape p99 ms | scrape max ms | timer lateness p99 ms | checks completed (cumulative) |"
	echo "|---|---|---|---|---|---|---|---|"
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
