#!/usr/bin/env bash
# vipctl audit on a crafted log (issue 12 items 1-3) with exact expected
# output: the timeline and its filters (--app, --task, --vip, --since/--until
# absolute and relative, --match), several files in order with a gzip one and
# stdin, the malformed line located, --report (table and --json) whose
# durations are worked out by hand in the comments, and --verify finding the
# transition with no kernel operation and the one followed too late.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"

# web.a: healthy 10:00:01 -> out 10:01:00 (weight 0 at :00.2, removed 30 s
# later) -> healthy 10:02:00. web.b: out 10:02:30 (no kernel line: verify
# finds it) -> healthy 10:02:50 (weight back only at 10:03:00: late). api.1
# has no VIP (no ipvs line): not checked by verify. Line 12 is not JSON.
cat > "$TMP/audit.log" <<'LOG'
{"v":1,"ts":"2026-11-26T10:00:00.000Z","seq":1,"event":"start","version":"0.1.0","ipvs":true,"audit_lines_dropped":0}
{"v":1,"ts":"2026-11-26T10:00:00.010Z","seq":2,"event":"reload","apps_path":"/etc/vipd/apps","files":2,"apps":2,"tasks":3,"check_instances":3,"errors":0,"kept_last_good":0}
{"v":1,"ts":"2026-11-26T10:00:01.000Z","seq":3,"event":"check","app":"/web","task":"web.a","check":0,"protocol":"HTTP","from":"unknown","to":"healthy","rule":"first_success","outcome":"ok","http_status":200,"latency_ms":1.5,"path":"direct","consecutive_failures":0,"output":""}
{"v":1,"ts":"2026-11-26T10:00:01.000Z","seq":4,"event":"task","app":"/web","task":"web.a","from":"unknown","to":"healthy","rule":"all_checks_healthy","check":0,"host":"10.1.0.2","ports":[8080]}
{"v":1,"ts":"2026-11-26T10:00:01.001Z","seq":5,"event":"task","app":"/web","task":"web.b","from":"unknown","to":"healthy","rule":"all_checks_healthy","check":0,"host":"10.1.0.3","ports":[8080]}
{"v":1,"ts":"2026-11-26T10:00:01.100Z","seq":6,"event":"ipvs","op":"add_dest","service":"TCP 11.0.0.1:80","text":"add dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 1","dest":"10.1.0.2:8080","weight":1,"result":"ok"}
{"v":1,"ts":"2026-11-26T10:00:01.100Z","seq":7,"event":"ipvs","op":"add_dest","service":"TCP 11.0.0.1:80","text":"add dest TCP 11.0.0.1:80 -> 10.1.0.3:8080 weight 1","dest":"10.1.0.3:8080","weight":1,"result":"ok"}
{"v":1,"ts":"2026-11-26T10:00:02.000Z","seq":8,"event":"task","app":"/api","task":"api.1","from":"unknown","to":"healthy","rule":"all_checks_healthy","check":0,"host":"10.1.0.9","ports":[9000]}
{"v":1,"ts":"2026-11-26T10:01:00.000Z","seq":9,"event":"check","app":"/web","task":"web.a","check":0,"protocol":"HTTP","from":"healthy","to":"unhealthy","rule":"failure","outcome":"http_status","http_status":503,"latency_ms":2.0,"path":"direct","consecutive_failures":1,"output":"HTTP 503: upstream\nbusy"}
{"v":1,"ts":"2026-11-26T10:01:00.000Z","seq":10,"event":"task","app":"/web","task":"web.a","from":"healthy","to":"unhealthy","rule":"check_unhealthy","check":0,"host":"10.1.0.2","ports":[8080]}
{"v":1,"ts":"2026-11-26T10:01:00.200Z","seq":11,"event":"ipvs","op":"edit_dest","service":"TCP 11.0.0.1:80","text":"edit dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 0","dest":"10.1.0.2:8080","weight":0,"old_weight":1,"result":"ok"}
not json at all
{"v":1,"ts":"2026-11-26T10:01:30.200Z","seq":13,"event":"ipvs","op":"del_dest","service":"TCP 11.0.0.1:80","text":"del dest TCP 11.0.0.1:80 -> 10.1.0.2:8080","dest":"10.1.0.2:8080","weight":0,"result":"ok"}
{"v":1,"ts":"2026-11-26T10:02:00.000Z","seq":14,"event":"check","app":"/web","task":"web.a","check":0,"protocol":"HTTP","from":"unhealthy","to":"healthy","rule":"success","outcome":"ok","http_status":200,"latency_ms":1.0,"path":"direct","consecutive_failures":0,"output":""}
{"v":1,"ts":"2026-11-26T10:02:00.000Z","seq":15,"event":"task","app":"/web","task":"web.a","from":"unhealthy","to":"healthy","rule":"all_checks_healthy","check":0,"host":"10.1.0.2","ports":[8080]}
{"v":1,"ts":"2026-11-26T10:02:00.100Z","seq":16,"event":"ipvs","op":"add_dest","service":"TCP 11.0.0.1:80","text":"add dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 1","dest":"10.1.0.2:8080","weight":1,"result":"ok"}
{"v":1,"ts":"2026-11-26T10:02:30.000Z","seq":17,"event":"check","app":"/web","task":"web.b","check":0,"protocol":"HTTP","from":"healthy","to":"unhealthy","rule":"failure","outcome":"connect_failed","latency_ms":0.5,"path":"direct","consecutive_failures":1,"output":"connect: Connection refused"}
{"v":1,"ts":"2026-11-26T10:02:30.000Z","seq":18,"event":"task","app":"/web","task":"web.b","from":"healthy","to":"unhealthy","rule":"check_unhealthy","check":0,"host":"10.1.0.3","ports":[8080]}
{"v":1,"ts":"2026-11-26T10:02:40.000Z","seq":19,"event":"task","app":"/api","task":"api.1","from":"healthy","to":"unhealthy","rule":"check_unhealthy","check":0,"host":"10.1.0.9","ports":[9000]}
{"v":1,"ts":"2026-11-26T10:02:50.000Z","seq":20,"event":"task","app":"/web","task":"web.b","from":"unhealthy","to":"healthy","rule":"all_checks_healthy","check":0,"host":"10.1.0.3","ports":[8080]}
{"v":1,"ts":"2026-11-26T10:03:00.000Z","seq":21,"event":"ipvs","op":"edit_dest","service":"TCP 11.0.0.1:80","text":"edit dest TCP 11.0.0.1:80 -> 10.1.0.3:8080 weight 1","dest":"10.1.0.3:8080","weight":1,"old_weight":1,"result":"ok"}
{"v":1,"ts":"2026-11-26T10:03:20.000Z","seq":22,"event":"stop","version":"0.1.0","ipvs":true,"audit_lines_dropped":0}
LOG

check() { # what expected-output command...
  local what=$1 want=$2; shift 2
  local got; got=$("$@" 2>"$TMP/err"); local rc=$?
  expect_eq "$got" "$want" "$what"
  LAST_RC=$rc; LAST_ERR=$(cat "$TMP/err")
}

lines_of() { # text n...: lines n... (from 1) of text, in the order given
  local text=$1 n; shift
  for n in "$@"; do sed -n "${n}p" <<<"$text"; done
}

# The whole timeline; the malformed line is skipped, located, on stderr.

timeline=$(cat <<'OUT'
2026-11-26T10:00:00.000Z  start  version 0.1.0, programming IPVS, audit_lines_dropped 0
2026-11-26T10:00:00.010Z  reload  2 apps, 3 tasks, 0 errors, 0 kept last good
2026-11-26T10:00:01.000Z  /web web.a  check 0 unknown -> healthy  first_success, ok, HTTP 200
2026-11-26T10:00:01.000Z  /web web.a  task unknown -> healthy  all_checks_healthy
2026-11-26T10:00:01.001Z  /web web.b  task unknown -> healthy  all_checks_healthy
2026-11-26T10:00:01.100Z  ipvs add dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 1  ok
2026-11-26T10:00:01.100Z  ipvs add dest TCP 11.0.0.1:80 -> 10.1.0.3:8080 weight 1  ok
2026-11-26T10:00:02.000Z  /api api.1  task unknown -> healthy  all_checks_healthy
2026-11-26T10:01:00.000Z  /web web.a  check 0 healthy -> unhealthy  failure, http_status, HTTP 503  | HTTP 503: upstream\nbusy
2026-11-26T10:01:00.000Z  /web web.a  task healthy -> unhealthy  check_unhealthy
2026-11-26T10:01:00.200Z  ipvs edit dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 0  ok
2026-11-26T10:01:30.200Z  ipvs del dest TCP 11.0.0.1:80 -> 10.1.0.2:8080  ok
2026-11-26T10:02:00.000Z  /web web.a  check 0 unhealthy -> healthy  success, ok, HTTP 200
2026-11-26T10:02:00.000Z  /web web.a  task unhealthy -> healthy  all_checks_healthy
2026-11-26T10:02:00.100Z  ipvs add dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 1  ok
2026-11-26T10:02:30.000Z  /web web.b  check 0 healthy -> unhealthy  failure, connect_failed  | connect: Connection refused
2026-11-26T10:02:30.000Z  /web web.b  task healthy -> unhealthy  check_unhealthy
2026-11-26T10:02:40.000Z  /api api.1  task healthy -> unhealthy  check_unhealthy
2026-11-26T10:02:50.000Z  /web web.b  task unhealthy -> healthy  all_checks_healthy
2026-11-26T10:03:00.000Z  ipvs edit dest TCP 11.0.0.1:80 -> 10.1.0.3:8080 weight 1  ok
2026-11-26T10:03:20.000Z  stop  version 0.1.0, programming IPVS, audit_lines_dropped 0
OUT
)
check "timeline" "$timeline" "$vipctl" audit "$TMP/audit.log"
expect_eq "$LAST_RC" 0 "timeline exit code"
expect_eq "$LAST_ERR" "vipctl audit: $TMP/audit.log:12: not a JSON object: '[' or '{' expected near 'not'; line skipped
vipctl audit: 1 lines skipped (not audit lines)" "located message for the malformed line"

# --task: its health lines and the kernel lines of its destination (the
# filters' answers are lines of the whole timeline, numbered from 1).

want=$(lines_of "$timeline" 3 4 6 9 10 11 12 13 14 15)
check "--task web.a" "$want" "$vipctl" audit --task web.a "$TMP/audit.log"

# --vip by address (the kernel lines of the VIP, and the health lines of
# tasks once seen in it) combined with --app; options after the file.

want=$(lines_of "$timeline" 13 14 15 16 17 19 20)
check "--vip --app --since" "$want" "$vipctl" audit "$TMP/audit.log" --vip 11.0.0.1 --app /web --since 2026-11-26T10:02:00Z

# --since/--until with an offset, --match over the check output.

want=$(lines_of "$timeline" 16 17 18)
check "--since --until" "$want" "$vipctl" audit --since 2026-11-26T10:02:30Z --until 2026-11-26T11:02:45+01:00 "$TMP/audit.log"

want=$(lines_of "$timeline" 9 16)
check "--match" "$want" "$vipctl" audit --match 'refused|50[0-9]' "$TMP/audit.log"

# Relative times count back from now: the log is from 2026-11-26.
check "--since 1h" "" "$vipctl" audit --since 1h "$TMP/audit.log"
check "--since 36500d" "$("$vipctl" audit "$TMP/audit.log" 2>/dev/null)" "$vipctl" audit --since 36500d "$TMP/audit.log"

# Rotated files in order: the older one gzip-compressed, the newer from stdin.
head -11 "$TMP/audit.log" | gzip >"$TMP/audit.log.1.gz"
tail -n +12 "$TMP/audit.log" >"$TMP/audit.log.0"
got=$("$vipctl" audit "$TMP/audit.log.1.gz" - <"$TMP/audit.log.0" 2>"$TMP/err")
expect_eq "$got" "$("$vipctl" audit "$TMP/audit.log" 2>/dev/null)" "gzip file then stdin, in order"
expect_contains "$(cat "$TMP/err")" "vipctl audit: (stdin):1: not a JSON object"
"$vipctl" audit "$TMP/audit.log.0" "$TMP/audit.log.1.gz" >/dev/null 2>"$TMP/err"
expect_contains "$(cat "$TMP/err")" "vipctl audit: $TMP/audit.log.1.gz starts before $TMP/audit.log.0 ends: give rotated logs oldest first"

# --report. web.a: in 10:00:00-10:00:01 unknown (not counted), healthy 59 s
# + 80 s = 139 s; out 60 s of which 30 s draining (weight 0 from :00.2 to
# the removal at 10:01:30.2). web.b: healthy 148.999 s + 30 s, out 20 s.
# api.1: healthy 158 s, out 40 s (to the stop at 10:03:20). Worst first.

want=$(cat <<'OUT'
BACKEND     VIP                              IN ROTATION          OUT   DRAINING  TRANSITIONS  LONGEST OUTAGE
/web web.a  TCP 11.0.0.1:80 -> 10.1.0.2:8080        2m19s        30.0s      30.0s            2  1m00s from 2026-11-26T10:01:00.000Z | HTTP 503: upstream busy
/api api.1  -                                      2m38s        40.0s       0.0s            1  40.0s from 2026-11-26T10:02:40.000Z
/web web.b  TCP 11.0.0.1:80 -> 10.1.0.3:8080        2m59s        20.0s       0.0s            2  20.0s from 2026-11-26T10:02:30.000Z | connect: Connection refused

APP   BACKENDS  IN ROTATION          OUT   DRAINING  TRANSITIONS  LONGEST OUTAGE
/web         2        5m18s        50.0s      30.0s            4  web.a: 1m00s from 2026-11-26T10:01:00.000Z | HTTP 503: upstream busy
/api         1        2m38s        40.0s       0.0s            1  api.1: 40.0s from 2026-11-26T10:02:40.000Z
OUT
)
check "--report" "$want" "$vipctl" audit --report "$TMP/audit.log"
expect_eq "$LAST_RC" 0 "--report exit code"

want=$(cat <<'OUT'
{
  "since": "2026-11-26T10:00:00.000Z",
  "until": "2026-11-26T10:03:20.000Z",
  "backends": [
    {
      "app": "/web",
      "task": "web.a",
      "vip": "TCP 11.0.0.1:80",
      "dest": "10.1.0.2:8080",
      "in_rotation_s": 139.0,
      "out_of_rotation_s": 30.0,
      "draining_s": 30.0,
      "transitions": 2,
      "longest_outage_s": 60.0,
      "longest_outage_start": "2026-11-26T10:01:00.000Z",
      "longest_outage_output": "HTTP 503: upstream\nbusy"
    },
    {
      "app": "/web",
      "task": "web.b",
      "vip": "TCP 11.0.0.1:80",
      "dest": "10.1.0.3:8080",
      "in_rotation_s": 178.999,
      "out_of_rotation_s": 20.0,
      "draining_s": 0.0,
      "transitions": 2,
      "longest_outage_s": 20.0,
      "longest_outage_start": "2026-11-26T10:02:30.000Z",
      "longest_outage_output": "connect: Connection refused"
    }
  ],
  "apps": [
    {
      "app": "/web",
      "backends": 2,
      "in_rotation_s": 317.999,
      "out_of_rotation_s": 50.0,
      "draining_s": 30.0,
      "transitions": 4,
      "longest_outage_s": 60.0,
      "longest_outage_start": "2026-11-26T10:01:00.000Z",
      "longest_outage_output": "HTTP 503: upstream\nbusy",
      "longest_outage_task": "web.a"
    }
  ]
}
OUT
)
check "--report --json --app /web" "$want" "$vipctl" audit --report --json --app /web "$TMP/audit.log"

# Long durations read as hours and days: out from 2026-11-20T01:00 to the
# stop at 2026-11-22T05:10 is 2 days 4 h 10 min. A task line without host
# and ports (before they were logged) still counts.
cat > "$TMP/long.log" <<'LOG'
{"v":1,"ts":"2026-11-20T00:00:00.000Z","seq":1,"event":"task","app":"/x","task":"x.1","from":"unknown","to":"healthy","rule":"all_checks_healthy","check":0}
{"v":1,"ts":"2026-11-20T01:00:00.000Z","seq":2,"event":"check","app":"/x","task":"x.1","check":0,"protocol":"TCP","from":"healthy","to":"unhealthy","rule":"failure","outcome":"connect_failed","output":"down"}
{"v":1,"ts":"2026-11-20T01:00:00.000Z","seq":3,"event":"task","app":"/x","task":"x.1","from":"healthy","to":"unhealthy","rule":"check_unhealthy","check":0}
{"v":1,"ts":"2026-11-22T05:10:00.000Z","seq":4,"event":"stop","version":"0.1.0","ipvs":true,"audit_lines_dropped":0}
LOG
want=$(cat <<'OUT'
BACKEND  VIP  IN ROTATION          OUT   DRAINING  TRANSITIONS  LONGEST OUTAGE
/x x.1   -       1h00m00s     2d04h10m       0.0s            1  2d04h10m from 2026-11-20T01:00:00.000Z | down

APP  BACKENDS  IN ROTATION          OUT   DRAINING  TRANSITIONS  LONGEST OUTAGE
/x          1     1h00m00s     2d04h10m       0.0s            1  x.1: 2d04h10m from 2026-11-20T01:00:00.000Z | down
OUT
)
check "--report over days" "$want" "$vipctl" audit --report "$TMP/long.log"

# --verify: web.b left rotation with no kernel line, and came back with
# its weight 10 s later (bound 5 s); api.1 is in no VIP. Exit 1.

want=$(cat <<'OUT'
not followed: /web web.b healthy -> unhealthy at 2026-11-26T10:02:30.000Z: weight 0 or removal of its destination within 5.0s: no such operation
  audit.log:18: {"v":1,"ts":"2026-11-26T10:02:30.000Z","seq":18,"event":"task","app":"/web","task":"web.b","from":"healthy","to":"unhealthy","rule":"check_unhealthy","check":0,"host":"10.1.0.3","ports":[8080]}
not followed: /web web.b unhealthy -> healthy at 2026-11-26T10:02:50.000Z: a weight above 0 of its destination within 5.0s: came 10.0s after it
  audit.log:20: {"v":1,"ts":"2026-11-26T10:02:50.000Z","seq":20,"event":"task","app":"/web","task":"web.b","from":"unhealthy","to":"healthy","rule":"all_checks_healthy","check":0,"host":"10.1.0.3","ports":[8080]}
  audit.log:21: {"v":1,"ts":"2026-11-26T10:03:00.000Z","seq":21,"event":"ipvs","op":"edit_dest","service":"TCP 11.0.0.1:80","text":"edit dest TCP 11.0.0.1:80 -> 10.1.0.3:8080 weight 1","dest":"10.1.0.3:8080","weight":1,"old_weight":1,"result":"ok"}
2 transitions not followed by the kernel
2 transitions of tasks never seen in the kernel's table (no VIP) not checked
OUT
)
check "--verify" "$(echo "$want" | sed "s#audit.log:#$TMP/audit.log:#")" "$vipctl" audit --verify "$TMP/audit.log"
expect_eq "$LAST_RC" 1 "--verify exit code with transitions not followed"
check "--verify --within 15" "every health transition was followed by the kernel within 15.0s" "$vipctl" audit --verify --within 15 --task web.a "$TMP/audit.log"
expect_eq "$LAST_RC" 0 "--verify exit code when all were followed"

# --help on stdout, exit 0; "--" ends the options.
"$vipctl" audit --help | grep -q '^usage: vipctl audit ' || fail "--help does not print the usage on stdout"
cp "$TMP/audit.log" "$TMP/--report"
expect_eq "$(cd "$TMP" && "$vipctl" audit -- --report 2>/dev/null | head -1)" "2026-11-26T10:00:00.000Z  start  version 0.1.0, programming IPVS, audit_lines_dropped 0" "a log named --report after --"

# Bad usage and bad input.
check "unknown option" "" "$vipctl" audit --bogus "$TMP/audit.log"
expect_eq "$LAST_RC" 64 "unknown option exit code"
check "bad --since" "" "$vipctl" audit --since yesterday "$TMP/audit.log"
expect_eq "$LAST_RC" 64 "bad --since exit code"
expect_eq "$LAST_ERR" "vipctl audit: --since yesterday: expected RFC 3339 (2026-11-26T19:17:45Z) or a duration before now (90s, 15m, 2h, 7d, 1w)" "bad --since message"
check "bad --match" "" "$vipctl" audit --match '(' "$TMP/audit.log"
expect_eq "$LAST_ERR" "vipctl audit: --match (: at offset 1: missing closing parenthesis" "bad --match message"
check "missing file" "" "$vipctl" audit "$TMP/nope.log"
expect_eq "$LAST_RC" 2 "missing file exit code"
expect_eq "$LAST_ERR" "vipctl audit: cannot open $TMP/nope.log: No such file or directory" "missing file message"
finish
