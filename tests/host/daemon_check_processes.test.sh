#!/usr/bin/env bash
# No process a COMMAND check starts outlives its run, or vipd: background
# processes that leave the run's process group (setsid), its parent (a
# double fork) or ignore SIGHUP (nohup) end when the run ends, when its
# deadline kills it, and when vipd stops with the run in flight.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
trap 'kill $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT

# Sleep arguments no other process on the host uses.
tag="97.$$"
setsid_arg="${tag}1" fork_arg="${tag}2" nohup_arg="${tag}3" timeout_arg="${tag}4"
left() { # how many processes run `sleep ARG`, anywhere on the host
  pgrep -c -f -x "sleep $1"
}

mkdir -p "$TMP/apps"
check() { # command interval timeout
  printf '{"protocol": "COMMAND", "command": {"value": "%s"}, "intervalSeconds": %s, "timeoutSeconds": %s, "gracePeriodSeconds": 0, "delaySeconds": 0}' "$1" "$2" "$3"
}
cat > "$TMP/apps/bg.json" <<JSON
{"id": "/bg", "healthChecks": [
   $(check "setsid sleep $setsid_arg & sleep 0.2" 1 1),
   $(check "(sleep $fork_arg &) ; sleep 0.2" 1 1),
   $(check "nohup sleep $nohup_arg >/dev/null 2>&1 & sleep 0.2" 1 1),
   $(check "setsid sleep $timeout_arg & sleep 30" 3 2)],
 "tasks": [{"id": "bg.a", "host": "127.0.0.1", "ports": [1]}]}
JSON

"$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" --run-for 60 2>"$TMP/vipd.err" &
vipd_pid=$!
# While vipd runs, at most the sleep of a run in flight exists for each
# check; each run used to leave its own behind, one more every interval.
for _ in $(seq 70); do
  for arg in "$setsid_arg" "$fork_arg" "$nohup_arg" "$timeout_arg"; do
    n=$(left "$arg")
    [ "$n" -le 1 ] || { fail "$n processes run \`sleep $arg\`"; break 2; }
  done
  sleep 0.1
done
runs=$(grep -c '"event":"check"' "$TMP/audit.log")
[ "$runs" -ge 4 ] || fail "only $runs check results in the audit log"
grep -q '"event":"check".*"outcome":"timeout"' "$TMP/audit.log" ||
  fail "the deadline never cut off the sleep 30 check"

# vipd stops while a run is in flight: it ends with vipd.
for _ in $(seq 50); do [ "$(left "$timeout_arg")" -ge 1 ] && break; sleep 0.1; done
expect_eq "$(left "$timeout_arg")" 1 "the in-flight check's background sleep"
kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
gone() { # all the sleeps gone (a busy host may take a moment to kill them)
  for arg in "$setsid_arg" "$fork_arg" "$nohup_arg" "$timeout_arg"; do
    [ "$(left "$arg")" -eq 0 ] || return 1
  done
}
for _ in $(seq 30); do gone && break; sleep 0.1; done
for arg in "$setsid_arg" "$fork_arg" "$nohup_arg" "$timeout_arg"; do
  expect_eq "$(left "$arg")" 0 "processes running \`sleep $arg\` after vipd stopped"
done
finish
