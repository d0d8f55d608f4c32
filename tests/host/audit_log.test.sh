#!/usr/bin/env bash
# The audit log never takes vipd down and never loses or splits a line
# (issue 12 item 4), against the real daemon with --no-ipvs: stdout cut by
# `head`, a reader that stalls then SIGTERM, a FIFO without a reader, a
# second vipd on the same log, check output that is not UTF-8, and rotation
# by logrotate's move + SIGUSR1 under a busy writer.
set -u
. "$VIPD_SOURCE_DIR/tests/host/audit_lib.sh"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
mkdir -p "$TMP/apps"
write_flapping_app "$TMP/apps" 60

# 1. `vipd --audit - | head -c 1000`: the reader goes away after 1000 bytes;
# vipd keeps running to the end of --run-for and exits 0 (it died of SIGPIPE,
# 141, before), saying on stderr that lines are now dropped.
"$vipd" --no-ipvs --apps "$TMP/apps" --audit - --run-for 3 2>"$TMP/head.err" | head -c 1000 >"$TMP/head.out"
rcs=("${PIPESTATUS[@]}")
expect_eq "${rcs[0]}" 0 "vipd's exit code with its audit pipe closed by head"
expect_eq "$(wc -c <"$TMP/head.out")" 1000 "bytes head read"
expect_contains "$(cat "$TMP/head.err")" "audit log (stdout): Broken pipe; lines are dropped until it is reopened (SIGUSR1)"

# 2. A reader that holds the FIFO open and never reads: checks go on, and
# SIGTERM stops vipd within AUDIT_STOP_WAIT_S (2 s), saying what was lost.
mkfifo "$TMP/stall"
exec 3<>"$TMP/stall" # a reader that never reads
"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/stall" 2>"$TMP/stall.err" &
pid=$!; pids+=($pid)
sleep 4 # 60 tasks flapping fill the 64 KiB pipe
kill -TERM $pid
start=$(date +%s%N)
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
stop_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if kill -0 $pid 2>/dev/null; then fail "vipd still running 10 s after SIGTERM with a stalled audit reader"; kill -KILL $pid; fi
wait $pid; rc=$?
expect_eq "$rc" 0 "vipd's exit code after SIGTERM with a stalled reader"
[ "$stop_ms" -lt 4000 ] || fail "stop took ${stop_ms} ms with a stalled reader (bound: 2 s + exit)"
expect_contains "$(cat "$TMP/stall.err")" "not written at stop (the reader is not reading)"
exec 3<&-

# 3. A FIFO nobody reads: start-up fails at once with a clear error instead
# of hanging in open().
mkfifo "$TMP/noreader"
timeout 5 "$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/noreader" 2>"$TMP/fifo.err"
rc=$?
expect_eq "$rc" 1 "vipd's exit code with a FIFO that has no reader (124: it hung)"
expect_contains "$(cat "$TMP/fifo.err")" "cannot open audit log $TMP/noreader: it is a FIFO with no reader; start the reader first"

# 4. Non-UTF-8 check output, and 600 bytes of é cut at 511 mid-character:
# the output field is there, valid, with U+FFFD for the bad bytes and whole
# characters only.
mkdir -p "$TMP/apps2"
python3 - "$TMP/apps2" <<'PY'
import json, sys
checks = {"bad": "printf 'a\\377b\\300\\257c'; exit 1",
          "eacute": "printf '%.0s\u00e9' $(seq 300); exit 1"}
for name, cmd in checks.items():
    json.dump({"id": "/" + name, "healthChecks": [{"protocol": "COMMAND", "command": {"value": cmd},
               "intervalSeconds": 2, "timeoutSeconds": 1, "gracePeriodSeconds": 0, "delaySeconds": 0}],
               "tasks": [{"id": name + ".1", "host": "127.0.0.1", "ports": [1]}]},
              open("%s/%s.json" % (sys.argv[1], name), "w"))
PY
"$vipd" --no-ipvs --apps "$TMP/apps2" --audit "$TMP/utf8.log" --run-for 3 2>"$TMP/utf8.err"
got=$(python3 - "$TMP/utf8.log" <<'PY'
import json, sys
out = {}
for l in open(sys.argv[1], "rb"):
    o = json.loads(l)
    if o["event"] == "check":
        out.setdefault(o["app"], o.get("output"))
print(ascii(out.get("/bad")))
print(out.get("/eacute") == "\u00e9" * 255)
PY
)
expect_eq "$got" "'a\ufffdb\ufffd\ufffdc'"$'\n'"True" "check outputs (bad bytes as U+FFFD; 255 whole é)"

# 5. A second vipd on the same log is refused, naming the first.
"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/rot.log" 2>"$TMP/rot.err" &
pid=$!; pids+=($pid)
for _ in $(seq 50); do [ -s "$TMP/rot.log" ] && break; sleep 0.1; done
timeout 5 "$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/rot.log" 2>"$TMP/second.err"
expect_eq "$?" 1 "a second vipd on the same audit log"
expect_contains "$(cat "$TMP/second.err")" "audit log $TMP/rot.log is locked by another process (pid $pid, vipd): two vipd must not share one audit log, give each its own --audit"

# 6. Rotation as logrotate does it (move, then SIGUSR1) five times under the
# busy first vipd: concatenated in order, the files hold every line, whole.
for i in 1 2 3 4 5; do
  sleep 0.7
  mv "$TMP/rot.log" "$TMP/rot.log.$i"
  kill -USR1 $pid
done
sleep 1
kill -TERM $pid; wait $pid
expect_eq "$?" 0 "vipd's exit code after the rotations"
if summary=$(check_audit_lines "$TMP"/rot.log.{1,2,3,4,5} "$TMP/rot.log"); then
  read -r lines first last lost <<<"$summary"
  expect_eq "$first" 1 "first seq"
  expect_eq "$lost" 0 "lines lost over five rotations"
  expect_eq "$last" "$lines" "last seq (every line numbered 1..N is there)"
  [ "$lines" -gt 200 ] || fail "only $lines lines were written: the writer was not busy"
else
  fail "rotated logs: $summary"
fi
for i in 2 3 4 5; do
  head -1 "$TMP/rot.log.$i" | grep -q '"event":"stats"' || fail "rot.log.$i does not start with the stats line of SIGUSR1"
done
finish
