#!/usr/bin/env bash
# Drain ends and slow-start steps run as timed rounds that rebuild only the
# services due (issue 9, scale): under a running vipd (--no-ipvs: the planned
# kernel operations are logged), web.a ramps in (weight 1, 2, 3 over 2 s),
# fails its check (weight 0), is removed at the end of its 2 s drain, and
# ramps in again when it recovers. Every one of those steps after a health
# change is taken by the next-change timer: the audit log must show them
# all, and the stats count them as timed rounds, none given up for a
# whole-table round.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$TMP"' EXIT
chmod 755 "$TMP" # the checks run as nobody
mkdir -p "$TMP/apps"
cat >"$TMP/apps/web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80",
   "VIPD_WEIGHT": "3", "VIPD_SLOW_START_SECONDS": "2"}}],
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "test ! -e $TMP/down.\$PORT0"},
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [31001]},
           {"id": "web.b", "host": "127.0.0.1", "ports": [31002]}]}
JSON
cat >"$TMP/apps/other.json" <<JSON
{"id": "/other", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/other:80"}}],
 "tasks": [{"id": "other.a", "host": "127.0.0.1", "ports": [31101]}]}
JSON
echo '{"lb": {"drain_seconds": 2, "resync_seconds": 0}}' >"$TMP/vipd.json"
audit="$TMP/audit.log"

# web.a's planned destination operations so far: "1 2 3 0 del ..."
a_ops() {
  python3 - "$audit" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("event") == "ipvs" and o.get("dest") == "127.0.0.1:31001":
        out.append("del" if o["op"] == "del_dest" else str(o["weight"]))
print(" ".join(out))
PY
}
wait_ops() { # pattern: web.a's operations until they match (20 s at most)
  for _ in $(seq 200); do
    [[ "$(a_ops)" =~ $1 ]] && return 0
    sleep 0.1
  done
  return 1
}

"$vipd" -c "$TMP/vipd.json" --no-ipvs --apps "$TMP/apps" --audit "$audit" 2>"$TMP/vipd.err" &
pid=$!
wait_ops '3$' || fail "web.a never reached its full weight: $(a_ops)"
touch "$TMP/down.31001"
wait_ops 'del$' || fail "web.a never left the table after its drain: $(a_ops)"
rm "$TMP/down.31001"
wait_ops 'del( [12])+ 3$' || fail "web.a never ramped back to its full weight: $(a_ops)"
kill -USR1 $pid
for _ in $(seq 50); do grep -q '"event":"stats"' "$audit" && break; sleep 0.1; done
kill -TERM $pid
wait $pid
expect_eq "$?" 0 "vipd's exit code"
pid=

# Each ramp goes up by slow-start steps to 3 (a step is skipped only when a
# loaded host runs the timer late), the drain's 0, then the removal.
ops=$(a_ops)
expect_eq "$(grep -cE '^1( 2)? 3 0 del 1( 2)? 3$' <<<"$ops")" 1 "web.a's operations [$ops]"
# The other app's service is planned once, at the start, never again.
expect_eq "$(grep -c '"event":"ipvs".*"dest":"127.0.0.1:31101"' "$audit")" 1 \
  "operations on other.a's destination"
stats=$(grep '"event":"stats"' "$audit" | head -1)
timed=$(grep -o '"timed_rounds":[0-9]*' <<<"$stats" | cut -d: -f2)
fallbacks=$(grep -o '"timed_round_fallbacks":[0-9]*' <<<"$stats" | cut -d: -f2)
# Two ramps of at least one timed step each, and the drain's end.
expect_eq "$(( ${timed:-0} >= 3 ))" 1 "timed rounds (timed_rounds: ${timed:-none})"
expect_eq "${fallbacks:-none}" 0 "timed rounds given up for a whole-table round"
finish
