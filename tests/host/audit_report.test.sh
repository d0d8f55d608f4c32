#!/usr/bin/env bash
# vipctl audit --report and --verify against a run whose outages this test
# caused and timed (issue 12 items 2-3): under a running vipd (--no-ipvs, the
# planned kernel operations are logged), web.a's check fails while a flag file
# exists; the test raises it for 4 s, then for 6 s. The report's durations
# must agree with the test's own clock within the check interval (1 s) per
# transition, and every transition must have been followed by the kernel.
set -u
. "$VIPD_SOURCE_DIR/tests/host/audit_lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"
trap 'kill $pid 2>/dev/null; rm -rf "$TMP"' EXIT
chmod 755 "$TMP" # the checks run as nobody
mkdir -p "$TMP/apps"
cat >"$TMP/apps/web.json" <<JSON
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
 "healthChecks": [{"protocol": "COMMAND", "command": {"value": "test ! -e $TMP/down.\$PORT0"},
   "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
 "tasks": [{"id": "web.a", "host": "127.0.0.1", "ports": [31001]},
           {"id": "web.b", "host": "127.0.0.1", "ports": [31002]}]}
JSON
echo '{"lb": {"drain_seconds": 2}}' >"$TMP/vipd.json"

now() { date +%s.%N; }
"$vipd" -c "$TMP/vipd.json" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" 2>"$TMP/vipd.err" &
pid=$!
sleep 2
down1=$(now); touch "$TMP/down.31001"; sleep 4; up1=$(now); rm "$TMP/down.31001"
sleep 2
down2=$(now); touch "$TMP/down.31001"; sleep 6; up2=$(now); rm "$TMP/down.31001"
sleep 2
kill -TERM $pid; wait $pid
expect_eq "$?" 0 "vipd's exit code"

"$vipctl" audit --report --json "$TMP/audit.log" >"$TMP/report.json"
expect_eq "$?" 0 "--report exit code"
result=$(python3 - "$TMP/report.json" "$down1" "$up1" "$down2" "$up2" <<'PY'
import calendar, json, sys, time
r = json.load(open(sys.argv[1]))
d1, u1, d2, u2 = map(float, sys.argv[2:])
b = {x["task"]: x for x in r["backends"]}
a, other = b["web.a"], b["web.b"]
problems = []
def near(what, got, want, tol):
    if abs(got - want) > tol:
        problems.append("%s: %.3f, the test caused %.3f (tolerance %.1f)" % (what, got, want, tol))
# Each transition is seen within one check interval of the flag's change
# (plus 0.25 s for spawning the check on a loaded machine).
near("web.a out of rotation + draining", a["out_of_rotation_s"] + a["draining_s"], (u1 - d1) + (u2 - d2), 2.25)
near("web.a longest outage", a["longest_outage_s"], u2 - d2, 1.25)
near("web.a draining (2 s per outage)", a["draining_s"], 4.0, 0.5)
if a["transitions"] != 4:
    problems.append("web.a transitions: %d, the test caused 4" % a["transitions"])
if not a.get("vip", "").startswith("TCP ") or a.get("dest") != "127.0.0.1:31001":
    problems.append("web.a vip/dest: %s %s" % (a["vip"], a["dest"]))
if other["out_of_rotation_s"] + other["draining_s"] > 0.001 or other["transitions"] != 0:
    problems.append("web.b was never down: %r" % other)
if r["backends"][0]["task"] != "web.a":
    problems.append("worst first: %s listed first" % r["backends"][0]["task"])
start = calendar.timegm(time.strptime(a.get("longest_outage_start", "1970-01-01T00:00:00")[:19], "%Y-%m-%dT%H:%M:%S"))
near("web.a longest outage start", start, d2, 2.0)
print("\n".join(problems) or "ok")
PY
)
expect_eq "$result" "ok" "report durations against the test's clock"

verify=$("$vipctl" audit --verify --within 2 "$TMP/audit.log")
expect_eq "$?" 0 "--verify exit code"
expect_eq "$verify" "every health transition was followed by the kernel within 2.0s" "--verify output"

# The same log without the kernel lines that took web.a out (weight 0, then
# removal at the end of the drain): verify finds both outages' starts.
grep -v '"op":"\(edit\|del\)_dest".*"dest":"127.0.0.1:31001","weight":0' "$TMP/audit.log" >"$TMP/tampered.log"
verify=$("$vipctl" audit --verify --within 2 "$TMP/tampered.log")
expect_eq "$?" 1 "--verify exit code on a log missing the kernel's weight 0"
expect_eq "$(grep -c '^not followed: /web web.a healthy -> unhealthy at .*: weight 0 or removal of its destination within 2.0s: no such operation$' <<<"$verify")" 2 "transitions found not followed"
finish
