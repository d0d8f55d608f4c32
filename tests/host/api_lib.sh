# Shared by the API's scenario tests (tests/host/api_*.test.sh, page*.test.sh):
# two real HTTP backends on loopback, each its own process (a: healthy,
# b: /health answers 500), one app /web with VIP /web:80 and an HTTP check
# every second, and vipd --no-ipvs serving the API on a random port.
# After `api_start` (or its steps api_backends, api_apps, api_vipd): $base,
# $vipd_pid, $TMP/vipd.err; get PATH, json EXPR, wait_for PATH EXPR EXPECTED
# SECONDS, backend TASK FIELD.
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
port_a=$((25000 + RANDOM % 5000)); port_b=$((port_a + 1))
# below the ephemeral range: a busy host can hold any port there in TIME-WAIT
api=$((10000 + RANDOM % 10000))
base="http://127.0.0.1:$api"
backend_a= backend_b= vipd_pid=
trap 'kill $backend_a $backend_b $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT

api_backends() {
  python3 "$VIPD_SOURCE_DIR/examples/backends/backend.py" --http "$port_a:a" >/dev/null &
  backend_a=$!
  python3 "$VIPD_SOURCE_DIR/examples/backends/backend.py" --http "$port_b:b:500" >/dev/null &
  backend_b=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port_a/" && curl -s -o /dev/null "http://127.0.0.1:$port_b/" && return 0
    sleep 0.1
  done
  fail "the backends did not start"
}

# api_apps: $TMP/apps/web.json, the app /web with tasks on both backends.
api_apps() {
  mkdir -p "$TMP/apps"
  cat > "$TMP/apps/web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0,
   "maxConsecutiveFailures": 0}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [$port_a]},
           {"id": "web.b", "host": "127.0.0.1", "ports": [$port_b]}]}
JSON
}

# api_vipd [extra vipd options...]: vipd on those apps, its API on $api.
api_vipd() {
  echo "{\"api\": {\"listen\": \"$api\"}}" > "$TMP/vipd.json"
  "$vipd" -c "$TMP/vipd.json" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 120 "$@" \
    2>"$TMP/vipd.err" &
  vipd_pid=$!
}

api_start() { # extra vipd options...
  api_backends
  api_apps
  api_vipd "$@"
}

get() { curl -s --max-time 5 "$base$1"; }
# json FILTER (python expression over `d`) < document
json() { python3 -c "import json,sys; d=json.load(sys.stdin); r=($1); print(*r) if isinstance(r, tuple) else print(r)"; }
wait_for() { # path filter expected seconds
  local got=
  for _ in $(seq $(( $4 * 10 ))); do
    got=$(get "$1" | json "$2" 2>/dev/null) && [ "$got" = "$3" ] && return 0
    sleep 0.1
  done
  fail "$1: $2 never became [$3] (last [$got])"; get "$1" >&2; return 1
}
backend() { # task field
  echo "[b['$2'] for v in d['vips'] for b in v['backends'] if b['task'] == '$1'][0]"
}
