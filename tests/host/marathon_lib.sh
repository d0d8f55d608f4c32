# Shared by the host tests that run vipd against tests/tools/marathon_standin.py,
# a stand-in for Marathon (which does not run here): waiting on a file,
# HTTP backends on loopback, stand-in masters driven through a fifo, the
# app state they answer and the events they send. Source after
# tests/cli/lib.sh ($TMP, fail); the caller keeps its pids in the array
# pids (killed by its EXIT trap) and its audit log in $audit.
standin="$VIPD_SOURCE_DIR/tests/tools/marathon_standin.py"

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
count() { grep -c -- "$2" "$1" 2>/dev/null; }
wait_for() { # file pattern ms what: 0 when the pattern appeared in time
  local start; start=$(ms_now)
  until grep -q -- "$2" "$1" 2>/dev/null; do
    if [ $(( $(ms_now) - start )) -gt "$3" ]; then
      fail "$4: no [$2] in $1 within $3 ms"; return 1
    fi
    sleep 0.02
  done
}
wait_count() { # file pattern n ms what: until the pattern is there n times
  local start; start=$(ms_now)
  until [ "$(count "$1" "$2")" -ge "$3" ]; do
    if [ $(( $(ms_now) - start )) -gt "$4" ]; then
      fail "$5: [$2] not $3 times in $1 within $4 ms"; return 1
    fi
    sleep 0.05
  done
}

backend() { # name: an HTTP server on a free loopback port, its port in $TMP/NAME.port
  python3 -c '
import http.server, sys
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print(s.server_address[1], flush=True)
s.serve_forever()' > "$TMP/$1.port" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 50); do [ -s "$TMP/$1.port" ] && break; sleep 0.1; done
}
master() { # name fd [cert]: a stand-in taking commands on fd (opened
  # read-write so that neither end waits for the other); over TLS with
  # $TMP/CERT.pem and its key when a cert is named
  local tls=()
  [ $# -ge 3 ] && tls=(--tls "$TMP/$3.pem" "$TMP/$3.key")
  mkfifo "$TMP/$1.in"
  eval "exec $2<>\"\$TMP/$1.in\""
  eval "${1}_fd=$2"
  python3 "$standin" "$TMP/apps.json" "${tls[@]}" < "$TMP/$1.in" > "$TMP/$1.out" 2>&1 &
  pids+=($!)
  wait_for "$TMP/$1.out" '^port' 3000 "stand-in $1 start"
}
say() { # name command: waits for the stand-in's "ok"
  local out=$1 n; n=$(count "$TMP/$out.out" '^ok$')
  eval "echo \"\$2\" >&\${${out}_fd}"
  for _ in $(seq 100); do [ "$(count "$TMP/$out.out" '^ok$')" -gt "$n" ] && return; sleep 0.02; done
  fail "stand-in $out did not take [$2]"
}
task() { # id port
  echo "{\"id\": \"$1\", \"host\": \"127.0.0.1\", \"ports\": [$2], \"state\": \"TASK_RUNNING\", \"startedAt\": \"2026-12-01T10:00:00.000Z\"}"
}
apps_file() { # task json...: the state Marathon would answer
  local tasks; tasks=$(IFS=,; echo "$*")
  cat > "$TMP/apps.json.new" <<JSON
{"apps": [{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "healthChecks": [{"protocol": "MESOS_HTTP", "path": "/", "portIndex": 0,
                   "intervalSeconds": 2, "timeoutSeconds": 1, "delaySeconds": 0}],
 "tasks": [$tasks]}]}
JSON
  mv "$TMP/apps.json.new" "$TMP/apps.json"
}
status_event() { # master task-id status port
  say "$1" "event status_update_event {\"eventType\":\"status_update_event\",\"appId\":\"/web\",\"taskId\":\"$2\",\"taskStatus\":\"$3\",\"host\":\"127.0.0.1\",\"ports\":[$4],\"ipAddresses\":[{\"ipAddress\":\"127.0.0.1\",\"protocol\":\"IPv4\"}],\"timestamp\":\"2026-12-01T10:00:01.000Z\"}"
}
ipvs_lines() { grep '"event":"ipvs"' "$audit"; }
