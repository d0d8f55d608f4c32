#!/usr/bin/env bash
# The audit log's `ipvs` lines name the VIP, app and task they concern
# (issue 11 item 6), against the real daemon with --no-ipvs (the planned
# operations): add_dest names its task, a destination two apps share names
# the first app and counts the tasks, del_dest after the task left still
# names it, and `reload` names the apps kept at their last good definition.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$TMP"' EXIT
mkdir -p "$TMP/apps"

write_web() { # tasks as JSON
  cat > "$TMP/apps/a-web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "tasks": $1}
JSON
}
write_web '[{"id": "web.1", "host": "127.0.0.1", "ports": [31001]},
            {"id": "web.2", "host": "127.0.0.1", "ports": [31002]}]'
cat > "$TMP/apps/b-api.json" <<JSON
{"id": "/api", "portDefinitions": [{"port": 0, "protocol": "udp", "labels": {"VIP_0": "10.0.0.9:8080"}}],
 "tasks": [{"id": "api.1", "host": "127.0.0.2", "ports": [31003]}]}
JSON
# Another app declaring web.1's host port behind the same VIP.
cat > "$TMP/apps/c-shadow.json" <<JSON
{"id": "/shadow", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "tasks": [{"id": "shadow.1", "host": "127.0.0.1", "ports": [31001]}]}
JSON

# No drain: a task that leaves is deleted at once (with the default 30 s it
# keeps weight 0 first, docs/weights-and-draining.md).
echo '{"lb": {"drain_seconds": 0}}' > "$TMP/vipd.json"
"$vipd" -c "$TMP/vipd.json" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 60 2>"$TMP/err" &
pid=$!

# ipvs lines of op OP as "vip app task tasks_sharing dest" (- when absent).
ipvs_lines() { # op
  python3 - "$TMP/audit.log" "$1" <<'PY'
import json, sys
for raw in open(sys.argv[1]):
    o = json.loads(raw)
    if o["event"] == "ipvs" and o["op"] == sys.argv[2]:
        print(" ".join(str(o.get(k, "-")) for k in ("vip", "app", "task", "tasks_sharing", "dest", "service", "result")))
PY
}
wait_for() { # op pattern
  for _ in $(seq 100); do
    ipvs_lines "$1" 2>/dev/null | grep -q -- "$2" && return 0
    sleep 0.1
  done
  fail "no planned $1 line matching [$2]; the log:"$'\n'"$(cat "$TMP/audit.log")"
}

wait_for add_dest "127.0.0.2:31003"
wait_for add_dest "127.0.0.1:31002"
adds=$(ipvs_lines add_dest)
# Shared: the app whose id sorts first (/shadow) names it; 2 tasks are it.
expect_contains "$adds" "/web:80 /shadow shadow.1 2 127.0.0.1:31001 TCP 11."
expect_contains "$adds" "/web:80 /web web.2 - 127.0.0.1:31002 TCP 11."
expect_contains "$adds" "10.0.0.9:8080 /api api.1 - 127.0.0.2:31003 UDP 10.0.0.9:8080 planned"
expect_contains "$(ipvs_lines add_service)" "/web:80 - - - - TCP 11."
expect_contains "$(ipvs_lines add_service)" "10.0.0.9:8080 - - - - UDP 10.0.0.9:8080 planned"

# web.2 leaves: its destination's deletion still names it.
write_web '[{"id": "web.1", "host": "127.0.0.1", "ports": [31001]}]'
kill -HUP $pid
wait_for del_dest "127.0.0.1:31002"
expect_eq "$(ipvs_lines del_dest)" "/web:80 /web web.2 - 127.0.0.1:31002 $(ipvs_lines add_dest | awk '/31002/ {print $6, $7}') planned" \
  "del_dest of the task that left"

# /api's file breaks: it is kept at its last good definition, by name.
echo '{"id": "/api", "portDefinitions": [' > "$TMP/apps/b-api.json"
kill -HUP $pid
for _ in $(seq 100); do grep -q '"kept_apps":\["/api"\]' "$TMP/audit.log" && break; sleep 0.1; done
reload=$(python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["event"] == "reload"]
print(len(r), [(x["kept_last_good"], x["kept_apps"]) for x in r])' "$TMP/audit.log")
expect_eq "$reload" "3 [(0, []), (0, []), (1, ['/api'])]" "reload lines: kept_last_good and the kept apps by name"
expect_eq "$(ipvs_lines del_dest | grep -c 31003)" 0 "the kept app's destination stays"
kill -TERM $pid; wait $pid; pid=
finish
