#!/usr/bin/env bash
# vipctl diff against a live vipd (--no-ipvs, real backends on loopback):
# what a reload of new definitions would change, before it happens. No
# change: exit 0, "no change". A task added, a VIP port or label changed, a
# check changed (its tasks' checks start over: out of rotation until they
# report), a new named VIP, an app removed: exactly the kernel operations,
# VIP address changes and app changes, exit 1. Bad definitions: the located
# error, exit 2; vipd down: exit 69. Then each change is applied for real
# (SIGHUP) and the audit log's planned operations are exactly what diff said.
set -u
. "$VIPD_SOURCE_DIR/tests/host/api_lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"

web_app() { # DIR INTERVAL [EXTRA_TASKS]: /web, an HTTP check; web.a healthy, web.b 500
  cat > "$1/web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
   "intervalSeconds": $2, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0,
   "maxConsecutiveFailures": 0}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [$port_a]},
           {"id": "web.b", "host": "127.0.0.1", "ports": [$port_b]}${3:-}]}
JSON
}
plain_app() { # DIR LABELS TASKS: /plain, no checks
  cat > "$1/plain.json" <<JSON
{"id": "/plain", "portDefinitions": [{"port": 0, "labels": {$2}}], "tasks": [$3]}
JSON
}
task() { echo "{\"id\": \"$1\", \"host\": \"127.0.0.1\", \"ports\": [$2]}"; }
new_dir() { # NAME: a copy of the running definitions to change
  rm -rf "$TMP/$1"; cp -r "$TMP/apps" "$TMP/$1"; echo "$TMP/$1"
}
diff_ops() { "$vipctl" diff -c "$TMP/vipd.json" --json "$1" | json "'\n'.join(o['text'] for o in d['operations'])"; }

mkdir -p "$TMP/apps"
web_app "$TMP/apps" 2
plain_app "$TMP/apps" '"VIP_0": "/plain:80"' "$(task plain.a "$port_a")"
# The state file holds the named VIPs' recorded addresses: `vips FILE` reads them from there.
echo "{\"api\": {\"listen\": \"$api\"}, \"reload_seconds\": 0, \"lb\": {\"state_file\": \"$TMP/state.json\"}}" > "$TMP/vipd.json"

# vipd not running: one line, EX_UNAVAILABLE.
out=$("$vipctl" diff -c "$TMP/vipd.json" "$TMP/apps" 2>&1); rc=$?
expect_eq "$rc:$out" "69:vipctl: vipd is not running or its API is off: no answer at 127.0.0.1:$api (set api.listen)" \
  "diff with vipd down"

api_backends
"$vipd" -c "$TMP/vipd.json" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 120 \
  2>"$TMP/vipd.err" &
vipd_pid=$!
wait_for /v1/vips "$(backend web.a health)" healthy 10
wait_for /v1/vips "$(backend web.b health)" unhealthy 10
vip_web=$(get /v1/vips | json "[v['vip'] for v in d['vips'] if v['name'] == '/web'][0]")
vip_plain=$(get /v1/vips | json "[v['vip'] for v in d['vips'] if v['name'] == '/plain'][0]")
addr_plain=${vip_plain%:80}

# vips --live: the running table in the shape `vips FILE` prints, so the
# two compare line by line (the definitions' checks run once by vipctl
# find the same health as vipd's).
live=$("$vipctl" vips --live -c "$TMP/vipd.json"); rc=$?
expect_eq "$rc" 0 "vips --live exit code"
expect_eq "$(tail -n1 <<<"$live")" "2 VIP services, 3 backends, 2 healthy (live, vipd at 127.0.0.1:$api)" \
  "vips --live summary"
expect_contains "$live" "/web:80 TCP $vip_web
  fqdn web.marathon.l4lb.thisdcos.directory"
expect_contains "$live" "  backend 127.0.0.1:$port_a healthy weight 1
  backend 127.0.0.1:$port_b unhealthy weight 0"
expect_eq "$(head -n-1 <<<"$live")" "$("$vipctl" vips -c "$TMP/vipd.json" "$TMP/apps" 2>/dev/null | head -n-1)" \
  "vips --live lists what vips lists for the running definitions"
# --json: the same document `vips --json FILE` gives, services for services.
shape='[(v["vip"], v["protocol"], v["address"], v.get("name"), v.get("assigned"), [(b["address"], b["health"], b["weight"]) for b in v["backends"]]) for v in d["vips"]], d["services"], d["backends"], d["healthy"]'
live_json=$("$vipctl" vips --live --json -c "$TMP/vipd.json" | json "$shape")
expect_contains "$live_json" "('/web:80', 'TCP', '$vip_web', '/web', True, [('127.0.0.1:$port_a', 'healthy', 1), ('127.0.0.1:$port_b', 'unhealthy', 0)])"
expect_eq "$live_json" "$("$vipctl" vips --json -c "$TMP/vipd.json" "$TMP/apps" 2>/dev/null | json "$shape")" \
  "vips --live --json gives what vips --json gives for the running definitions"
out=$("$vipctl" vips --live "$TMP/apps" 2>&1); rc=$?
expect_eq "$rc:$(head -n1 <<<"$out")" "64:vipctl vips: --live reads the running vipd, not FILE|DIR|URL" \
  "vips --live with definitions"

# The running definitions: nothing to do.
out=$("$vipctl" diff -c "$TMP/vipd.json" "$TMP/apps"); rc=$?
expect_eq "$rc:$out" "0:no change" "unchanged definitions"
expect_eq "$("$vipctl" diff --api "127.0.0.1:$api" --json "$TMP/apps" | json "d['changes'], d['operations'], d['vips'], d['apps']")" \
  "False [] [] []" "unchanged definitions, --json"

# A task added to an app without checks: healthy at once, one add_dest.
dir=$(new_dir task_added)
plain_app "$dir" '"VIP_0": "/plain:80"' "$(task plain.a "$port_a"), $(task plain.b "$port_b")"
out=$("$vipctl" diff -c "$TMP/vipd.json" "$dir"); rc=$?
expect_eq "$rc" 1 "exit code when something would change"
expect_eq "$out" "kernel operations (1):
  add dest TCP $vip_plain -> 127.0.0.1:$port_b weight 1 masq
apps:
  changed /plain: task added plain.b" "a task added"

# A task added to an app with checks: unknown until its checks report, so
# no kernel operation yet (as vipd treats a new task).
dir=$(new_dir checked_task_added)
web_app "$dir" 2 ", $(task web.c $((port_b + 1)))"
out=$("$vipctl" diff -c "$TMP/vipd.json" "$dir"); rc=$?
expect_eq "$rc:$out" "1:apps:
  changed /web: task added web.c" "a task added to an app with checks"

# The VIP's port changed: a new service, its backend, the old one deleted.
dir=$(new_dir port_changed)
plain_app "$dir" '"VIP_0": "/plain:81"' "$(task plain.a "$port_a")"
expect_eq "$("$vipctl" diff -c "$TMP/vipd.json" "$dir")" "kernel operations (3):
  add service TCP $addr_plain:81 sched wlc flags 0x0
  add dest TCP $addr_plain:81 -> 127.0.0.1:$port_a weight 1 masq
  del service TCP $vip_plain
apps:
  changed /plain: VIP added TCP $addr_plain:81; VIP removed TCP $vip_plain" "a VIP port changed"

# A label changed: the scheduler, one edit of the service.
dir=$(new_dir label_changed)
plain_app "$dir" '"VIP_0": "/plain:80", "VIPD_SCHEDULER": "rr"' "$(task plain.a "$port_a")"
expect_eq "$("$vipctl" diff -c "$TMP/vipd.json" "$dir")" "kernel operations (1):
  edit service TCP $vip_plain sched rr flags 0x0" "a scheduler label changed"

# A check changed: vipd starts the app's checks over, so web.a leaves
# rotation (weight 0, draining) until they report again.
dir=$(new_dir check_changed)
web_app "$dir" 3
out_check=$("$vipctl" diff -c "$TMP/vipd.json" "$dir")
expect_eq "$out_check" "kernel operations (1):
  edit dest TCP $vip_web -> 127.0.0.1:$port_a weight 0 masq
apps:
  changed /web: checks start over web.a; checks start over web.b" "a check changed"

# A new named VIP: its address, shown as a new assignment, is the one its
# service is added with.
dir=$(new_dir named_added)
cat > "$dir/api.json" <<JSON
{"id": "/api", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/api:8080"}}],
 "tasks": [$(task api.a "$port_b")]}
JSON
addr_api=$("$vipctl" diff -c "$TMP/vipd.json" --json "$dir" | json "[v['to'] for v in d['vips'] if v['name'] == '/api' and v['change'] == 'new'][0]")
case "$addr_api" in 11.*) ;; *) fail "/api's new address [$addr_api] is not in 11.0.0.0/8" ;; esac
expect_eq "$("$vipctl" diff -c "$TMP/vipd.json" "$dir")" "kernel operations (2):
  add service TCP $addr_api:8080 sched wlc flags 0x0
  add dest TCP $addr_api:8080 -> 127.0.0.1:$port_b weight 1 masq
VIP addresses:
  /api gets $addr_api (new)
apps:
  added   /api" "a new named VIP"

# An app removed: its service deleted, its name's address freed.
dir=$(new_dir app_removed)
rm "$dir/plain.json"
expect_eq "$("$vipctl" diff -c "$TMP/vipd.json" "$dir")" "kernel operations (1):
  del service TCP $vip_plain
VIP addresses:
  /plain loses $addr_plain (freed)
apps:
  removed /plain" "an app removed"

# A named range changed in the config (-c, as vipd would read it): the
# recorded addresses outside it move, each VIP's service with them.
echo "{\"api\": {\"listen\": \"$api\"}, \"lb\": {\"named_vip_range_v4\": \"12.0.0.0-12.255.255.254\"}}" \
  > "$TMP/moved.json"
"$vipctl" diff -c "$TMP/moved.json" --json "$TMP/apps" > "$TMP/moved.out"; rc=$?
expect_eq "$rc" 1 "a range changed: exit code"
expect_eq "$(json "[(v['name'], v['change'], v['from'], v['to'].startswith('12.')) for v in d['vips']]" < "$TMP/moved.out")" \
  "[('/plain', 'moved', '$addr_plain', True), ('/web', 'moved', '${vip_web%:80}', True)]" "a range changed: the moves"
to_web=$(json "[v['to'] for v in d['vips'] if v['name'] == '/web'][0]" < "$TMP/moved.out")
expect_eq "$(json "sorted(o['text'] for o in d['operations'] if '$to_web:' in o['text'] or '$vip_web' in o['text'])" < "$TMP/moved.out")" \
  "['add dest TCP $to_web:80 -> 127.0.0.1:$port_a weight 1 masq', 'add service TCP $to_web:80 sched wlc flags 0x0', 'del service TCP $vip_web']" \
  "a range changed: /web's service moves with its backend in rotation"

# Bad definitions: the located error as validate prints it, exit 2.
dir=$(new_dir bad)
plain_app "$dir" '"VIP_0": "/plain:http"' "$(task plain.a "$port_a")"
out=$("$vipctl" diff -c "$TMP/vipd.json" "$dir" 2>"$TMP/err"); rc=$?
expect_eq "$rc:$out" "2:" "bad definitions: exit 2, nothing on stdout"
expect_eq "$(cat "$TMP/err")" "$dir/plain.json: /portDefinitions/0/labels/VIP_0: VIP \"/plain:http\": port \"http\" is not a number from 1 to 65535" \
  "bad definitions: the located error"

# The proof: apply a change for real; the round after the reload plans
# exactly what diff said. N planned ipvs events after the reload's event.
ops_after_reload() { # RELOADS_BEFORE N
  python3 - "$TMP/audit.log" "$1" "$2" <<'PY'
import json, sys
seen, out = 0, []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "reload":
        seen += 1
    elif seen > int(sys.argv[2]) and e["event"] == "ipvs":
        out.append(e["text"])
print("\n".join(out[:int(sys.argv[3])]))
PY
}
apply() { # DIR WHAT N: the definitions become DIR's; waits for the N planned operations
  local reloads n want
  want=$(diff_ops "$1")
  n=$(printf '%s' "$want" | grep -c '')
  expect_eq "$n" "$3" "$2: diff's operations"
  reloads=$(grep -c '"event":"reload"' "$TMP/audit.log")
  last_reloads=$reloads
  rm -f "$TMP/apps"/*.json; cp "$1"/*.json "$TMP/apps/"
  kill -HUP "$vipd_pid"
  for _ in $(seq 100); do
    [ "$(ops_after_reload "$reloads" "$n" | grep -c '')" -ge "$n" ] && break
    sleep 0.1
  done
  expect_eq "$(ops_after_reload "$reloads" "$n")" "$want" "$2: the audit log's planned operations are diff's"
}
dir=$(new_dir combined)
plain_app "$dir" '"VIP_0": "/plain:80", "VIPD_SCHEDULER": "rr"' \
  "$(task plain.a "$port_a"), $(task plain.b "$port_b")"
cp "$TMP/named_added/api.json" "$dir/"
apply "$dir" "a task, a label and a named VIP" 4
sleep 0.5
expect_eq "$(ops_after_reload "$last_reloads" 1000 | grep -c '')" 4 \
  "no operation beyond diff's after that reload"
out=$("$vipctl" diff -c "$TMP/vipd.json" "$TMP/apps"); rc=$?
expect_eq "$rc:$out" "0:no change" "after the reload, the definitions match"
# What diff reads besides the table (docs/api.md): every app's running tasks
# with their health, and the named VIPs' recorded addresses.
expect_eq "$(get /v1/vips | json "[(a['id'], [(t['task'], t['health'], len(t['check_config'])) for t in a['tasks']]) for a in d['apps']]")" \
  "[('/api', [('api.a', 'healthy', 16)]), ('/plain', [('plain.a', 'healthy', 16), ('plain.b', 'healthy', 16)]), ('/web', [('web.a', 'healthy', 16), ('web.b', 'unhealthy', 16)])]" \
  "/v1/vips apps"
expect_eq "$(get /v1/vips | json "[(a['name'], a['address'], 'freed_at' in a) for a in d['assignments']]")" \
  "[('/api', '$addr_api', False), ('/plain', '$addr_plain', False), ('/web', '${vip_web%:80}', False)]" \
  "/v1/vips assignments"

# A check changed, applied: web.a goes out of rotation, as diff said.
dir=$(new_dir check_changed_2)
web_app "$dir" 3
apply "$dir" "a check changed" 1
# Right after it, web.a drains (or is back once its checks report): the
# running drains are read back, and the same definitions change nothing.
out=$("$vipctl" diff -c "$TMP/vipd.json" "$dir"); rc=$?
expect_eq "$rc:$out" "0:no change" "just after a reload, its own definitions"

# Slow start: a backend coming into rotation ramps from weight 1 (to 2 over
# an hour here); diff reads the ramp back and plans no jump to full weight.
dir=$(new_dir slow_start)
cat > "$dir/slow.json" <<JSON
{"id": "/slow", "labels": {"VIPD_SLOW_START_SECONDS": "3600", "VIPD_WEIGHT": "2"},
 "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/slow:80"}}],
 "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
   "intervalSeconds": 2, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0,
   "maxConsecutiveFailures": 0}],
 "tasks": [$(task slow.a "$port_a")]}
JSON
apply "$dir" "an app with slow start" 1
wait_for /v1/vips "$(backend slow.a phase)" in 10
expect_eq "$(get /v1/vips | json "$(backend slow.a weight), $(backend slow.a slow_start_elapsed_seconds) >= 0")" \
  "1 True" "slow.a ramps from weight 1"
out=$("$vipctl" diff -c "$TMP/vipd.json" "$dir"); rc=$?
expect_eq "$rc:$out" "0:no change" "a ramping backend: no change"

kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
finish
