#!/usr/bin/env bash
# A real Prometheus server scrapes vipd's /metrics (docs/api.md): vipd
# (--no-ipvs, the API's shared set-up: backend a healthy, b answering 500) and
# Debian's prometheus with one static target, vipd's API on loopback, every
# second. Prometheus must report the target up with no scrape error, and its
# query API must return the values the test caused: one healthy and one
# unhealthy backend behind the VIP, HTTP checks counted, both transitions.
set -u
. "$VIPD_SOURCE_DIR/tests/host/api_lib.sh"
command -v prometheus >/dev/null || { echo "FAIL: no prometheus: scripts/setup.sh installs it"; exit 1; }
prom_pid=
trap 'kill $backend_a $backend_b $vipd_pid $prom_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT

api_start
wait_for /v1/vips "$(backend web.a health)" healthy 10
wait_for /v1/vips "$(backend web.b health)" unhealthy 10
vip=$(get /v1/vips | json "d['vips'][0]['vip']")

# Prometheus on its own loopback port, below the ephemeral range and apart from
# the API's range (10000-19999) and the backends' (25000-30000).
prom_port=$((20000 + RANDOM % 5000))
prom="http://127.0.0.1:$prom_port"
cat > "$TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: vipd
    static_configs:
      - targets: ['127.0.0.1:$api']
YAML
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn 2>"$TMP/prometheus.err" &
prom_pid=$!

pget() { curl -s --max-time 5 "$prom$1"; }
# pquery PROMQL: the value of the single series it returns, else "none"
pquery() {
  curl -s --max-time 5 -G "$prom/api/v1/query" --data-urlencode "query=$1" |
    json "d['data']['result'][0]['value'][1] if d['status'] == 'success' and len(d['data']['result']) == 1 else 'none'"
}

# The target, as Prometheus reports it: up, no error, vipd's own /metrics.
target="[(t['health'], t['lastError'], t['scrapeUrl']) for t in d['data']['activeTargets']][0]"
got=
for _ in $(seq 300); do
  got=$(pget /api/v1/targets | json "$target" 2>/dev/null) && [ "${got%% *}" = up ] && break
  sleep 0.1
done
expect_eq "$got" "up  http://127.0.0.1:$api/metrics" "Prometheus's target: health, lastError, scrapeUrl"
expect_eq "$(pget /api/v1/targets | json "len(d['data']['activeTargets'])")" 1 "number of targets"

# The values, as Prometheus stored them (waits for a scrape after the checks).
pwait() { # promql expected seconds
  local got=
  for _ in $(seq $(($3 * 10))); do
    got=$(pquery "$1" 2>/dev/null) && [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  fail "Prometheus query $1: never [$2] (last [$got])"
  cat "$TMP/prometheus.err" >&2
}
pwait 'up{job="vipd"}' 1 10
pwait "vipd_vip_backends{vip=\"$vip\",protocol=\"TCP\",state=\"healthy\"}" 1 10
pwait "vipd_vip_backends{vip=\"$vip\",protocol=\"TCP\",state=\"unhealthy\"}" 1 10
pwait 'vipd_task_health_transitions_total{to="healthy"}' 1 10
pwait 'vipd_task_health_transitions_total{to="unhealthy"}' 1 10
pwait 'vipd_checks_total{kind="command"}' 0 10
# Checks run every second: Prometheus sees the counter grow between scrapes.
pwait 'vipd_checks_total{kind="http"} > bool 2' 1 10
pwait 'increase(vipd_checks_total{kind="http"}[10s]) > bool 0' 1 15
pwait 'vipd_checks_failed_total{kind="http"} >= bool 1' 1 10
pwait 'count(vipd_vip_backends{vip="'"$vip"'"})' 4 10
# Nothing Prometheus could not parse: no sample dropped for a bad exposition.
pwait 'scrape_samples_scraped{job="vipd"} > bool 0' 1 10
pwait 'scrape_samples_post_metric_relabeling{job="vipd"} == bool scrape_samples_scraped{job="vipd"}' 1 10
kill -0 "$vipd_pid" 2>/dev/null || fail "vipd exited while scraped"
kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
finish
