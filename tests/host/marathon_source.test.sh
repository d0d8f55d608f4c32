#!/usr/bin/env bash
# vipd following Marathon: `--apps http://…,http://…` with the masters
# played by tests/tools/marathon_standin.py, a stand-in for Marathon (which
# does not run here), and real HTTP backends (python) on loopback checked by
# vipd. Tasks started, killed and lost through events reach the audit log
# (the planned IPVS operations, --no-ipvs) within 1 s; the stream dropping
# and reconnecting loses no event's effect; a master down, answering 500,
# garbage, a truncated body or stalling changes nothing programmed; failover
# to the next master; the token and basic auth reach the stand-in and
# never the logs.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
. "$VIPD_SOURCE_DIR/tests/host/marathon_lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
pids=()
trap 'kill -KILL "${pids[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
audit="$TMP/audit.log"
secret="s3cr3t-token-$$"
password="pa55-word-$$"

for b in b1 b2 b3; do backend $b; done
p1=$(cat "$TMP/b1.port") p2=$(cat "$TMP/b2.port") p3=$(cat "$TMP/b3.port")
apps_file "$(task web.1 "$p1")"
master A 5
master B 6
pa=$(awk '/^port/{print $2; exit}' "$TMP/A.out")
pb=$(awk '/^port/{print $2; exit}' "$TMP/B.out")

echo "$secret" > "$TMP/token"
cat > "$TMP/vipd.json" <<JSON
{"apps": "http://127.0.0.1:$pa,http://127.0.0.1:$pb",
 "audit_log": "$audit", "marathon": {"token_file": "$TMP/token"}}
JSON
"$vipd" -c "$TMP/vipd.json" --no-ipvs --run-for 300 2>"$TMP/vipd.err" &
vipd_pid=$!
pids+=($vipd_pid)

# Start: A's state is programmed; its backend, checked healthy, gets its weight.
wait_for "$audit" '"event":"reload".*"apps":1,"tasks":1' 5000 "first state read"
wait_for "$audit" "\"op\":\"add_dest\".*\"dest\":\"127.0.0.1:$p1\",\"weight\":1" 5000 "web.1 healthy"
expect_contains "$(cat "$TMP/A.out")" "auth /v2/events token=$secret"
expect_contains "$(cat "$TMP/A.out")" "auth /v2/apps token=$secret"

# A task started: in the audit log within 1 s, programmed once healthy.
apps_file "$(task web.1 "$p1")" "$(task web.2 "$p2")"
start=$(ms_now)
status_event A web.2 TASK_RUNNING "$p2"
wait_for "$audit" '"event":"source".*"task":"web.2","task_status":"TASK_RUNNING","change":"added"' 1000 "web.2 started"
wait_for "$audit" "\"op\":\"add_dest\".*\"dest\":\"127.0.0.1:$p2\",\"weight\":1" 3000 "web.2 programmed"
# Being killed: out of rotation within 1 s.
start=$(ms_now)
status_event A web.1 TASK_KILLING "$p1"
wait_for "$audit" "\"op\":\"edit_dest\".*\"dest\":\"127.0.0.1:$p1\",\"weight\":0" 1000 "web.1 killing"
# Killed: gone from the service within 1 s (drained first).
apps_file "$(task web.2 "$p2")"
status_event A web.1 TASK_KILLED "$p1"
wait_for "$audit" '"task":"web.1","task_status":"TASK_KILLED","change":"removed"' 1000 "web.1 killed"
# Lost (an agent gone): the same.
apps_file
status_event A web.2 TASK_LOST "$p2"
wait_for "$audit" '"task":"web.2","task_status":"TASK_LOST","change":"removed"' 1000 "web.2 lost"
wait_for "$audit" "\"op\":\"edit_dest\".*\"dest\":\"127.0.0.1:$p2\",\"weight\":0" 1000 "web.2 lost: out of rotation"

# The stream drops; a task starts while vipd is away. On reconnecting (to
# B: the next master) the state read brings it: no event's effect is lost.
apps_file "$(task web.3 "$p3")"
say A close
wait_for "$TMP/B.out" '^apps 1$' 3000 "failover to B"
wait_for "$audit" "\"op\":\"add_dest\".*\"dest\":\"127.0.0.1:$p3\",\"weight\":1" 4000 "web.3 after the reconnect"
expect_eq "$(ipvs_lines | grep -c "\"op\":\"add_dest\".*\"dest\":\"127.0.0.1:$p1\"")" 1 "web.1 added once (the reconnect replays nothing)"
sleep 1.5 # web.3's health settles

# Trouble on both masters: nothing programmed changes. A answers 500, B
# garbage, then A stalls past the 10 s state timeout and B sends a
# truncated body; each problem is logged once, and vipd keeps retrying
# (backoff with jitter) until A recovers.
before=$(ipvs_lines | wc -l)
reloads=$(count "$audit" '"event":"reload"')
echo 'this is not JSON' > "$TMP/garbage.json"
say A "apps-status 500"
say B "apps $TMP/garbage.json"
say B close
wait_for "$TMP/vipd.err" "marathon http://127.0.0.1:$pb /v2/events: the stream ended; keeping the last good state" 3000 "B's stream ended"
wait_for "$TMP/A.out" '^apps 2$' 3000 "A read again"
say A "apps-status 200"
say A "apps-delay 12"
wait_for "$TMP/vipd.err" "marathon http://127.0.0.1:$pa /v2/apps?embed=apps.tasks: HTTP 500; keeping the last good state" 1000 "A's 500"
wait_for "$TMP/B.out" '^apps 2$' 4000 "B read again"
say B "apps $TMP/apps.json"
say B "apps-truncate 40"
wait_for "$TMP/vipd.err" "marathon http://127.0.0.1:$pb /v2/apps?embed=apps.tasks: invalid JSON at line 1, column 4: '\\[' or '{' expected near 'this'; keeping the last good state" 1000 "B's garbage"
wait_for "$TMP/vipd.err" "marathon http://127.0.0.1:$pa /v2/apps?embed=apps.tasks: Timeout was reached; keeping the last good state" 20000 "A's stall"
wait_for "$TMP/B.out" '^apps 3$' 10000 "B read a third time"
say A "apps-delay 0"
wait_for "$TMP/vipd.err" "marathon http://127.0.0.1:$pb /v2/apps?embed=apps.tasks: Transferred a partial file; keeping the last good state" 1000 "B's truncated body"
expect_eq "$(ipvs_lines | wc -l)" "$before" "IPVS operations while both masters were in trouble"
expect_eq "$(count "$audit" '"event":"reload"')" "$reloads" "reloads while both masters were in trouble"
expect_eq "$(count "$TMP/vipd.err" "HTTP 500")" 1 "warnings about A's 500 (one per distinct problem)"

# A recovers: its state (the same) is read again; nothing is taken out.
wait_for "$TMP/A.out" '^apps 4$' 20000 "A read after recovering"
sleep 0.5
expect_eq "$(count "$audit" '"event":"reload"')" "$((reloads + 1))" "reloads after A recovered"
if ipvs_lines | tail -n +"$((before + 1))" | grep -q 'del_\|"weight":0'; then
  fail "a backend or service taken out after recovering with the same state"
fi
kill -TERM $vipd_pid; wait $vipd_pid; expect_eq "$?" 0 "vipd exit code after SIGTERM"
if grep -q "$secret" "$TMP/vipd.err" "$audit"; then fail "the token is in vipd's log or audit log"; fi

# The first master down: failover to the next. Basic auth from the URL:
# seen by the stand-in, never logged.
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
say B "apps-truncate -1"
rm -f "$audit"
"$vipd" --apps "http://127.0.0.1:$dead,http://vipd:$password@127.0.0.1:$pb" --audit "$audit" --no-ipvs --run-for 30 2>"$TMP/vipd2.err" &
vipd_pid=$!
pids+=($vipd_pid)
wait_for "$audit" '"event":"reload"' 5000 "basic auth: state read"
expect_contains "$(cat "$TMP/B.out")" "auth /v2/apps Basic $(printf 'vipd:%s' "$password" | base64)"
expect_contains "$(cat "$TMP/vipd2.err")" "marathon http://127.0.0.1:$dead /v2/events: Couldn't connect to server; keeping the last good state"
expect_contains "$(cat "$TMP/vipd2.err")" "running: apps http://127.0.0.1:$dead, audit"
kill -TERM $vipd_pid; wait $vipd_pid
if grep -q "$password" "$TMP/vipd2.err" "$audit"; then fail "the password is in vipd's log or audit log"; fi

# A standby master redirects to the leader: vipd follows, for the stream
# and the state read alike.
say A "redirect http://127.0.0.1:$pb"
attached=$(count "$TMP/B.out" '^attached')
rm -f "$audit"
"$vipd" --apps "http://127.0.0.1:$pa" --audit "$audit" --no-ipvs --run-for 30 2>"$TMP/vipd3.err" &
vipd_pid=$!
pids+=($vipd_pid)
wait_for "$audit" '"event":"reload".*"apps":1,"tasks":1' 5000 "state read through a redirect"
expect_contains "$(cat "$TMP/A.out")" "redirected /v2/events"
expect_contains "$(cat "$TMP/A.out")" "redirected /v2/apps"
expect_eq "$(count "$TMP/B.out" '^attached')" "$((attached + 1))" "streams attached on the leader"
kill -TERM $vipd_pid; wait $vipd_pid
say A "redirect -"
# vipctl reads what a live Marathon declares, with -c's credentials; a
# master down beside one that answers is a warning, all down an error.
auths=$(count "$TMP/B.out" "auth /v2/apps token=$secret")
out=$("$VIPD_BUILD_DIR/vipctl" -c "$TMP/vipd.json" validate "http://127.0.0.1:$dead,http://127.0.0.1:$pb" 2>"$TMP/vipctl.err"); rc=$?
expect_eq "$rc" 0 "vipctl validate exit code"
expect_contains "$out" "app /web (marathon http://127.0.0.1:$pb /v2/apps?embed=apps.tasks /apps/0)"
expect_contains "$out" "1 apps, 1 tasks, 1 health checks"
expect_contains "$(cat "$TMP/vipctl.err")" "marathon http://127.0.0.1:$dead /v2/apps?embed=apps.tasks: warning: Couldn't connect to server"
expect_eq "$(count "$TMP/B.out" "auth /v2/apps token=$secret")" "$((auths + 1))" "vipctl's requests with the token"
out=$("$VIPD_BUILD_DIR/vipctl" vips --no-checks "http://127.0.0.1:$pb" 2>/dev/null); rc=$?
expect_eq "$rc" 0 "vipctl vips exit code"
expect_contains "$out" "127.0.0.1:$p3"
"$VIPD_BUILD_DIR/vipctl" validate "http://127.0.0.1:$dead" >/dev/null 2>"$TMP/vipctl.err"; rc=$?
expect_eq "$rc" 2 "vipctl validate exit code, the only master down"
expect_contains "$(cat "$TMP/vipctl.err")" "marathon http://127.0.0.1:$dead /v2/apps?embed=apps.tasks: Couldn't connect to server"
if grep -q "$secret" "$TMP/vipctl.err"; then fail "the token is in vipctl's messages"; fi

# --check-config (systemd's ExecStartPre) checks the URLs and the secret
# files, and does not need Marathon up.
out=$("$vipd" -c "$TMP/vipd.json" --apps "http://127.0.0.1:$dead,http://127.0.0.1:$pb" --audit "$audit" --check-config 2>"$TMP/check.err"); rc=$?
expect_eq "$rc" 0 "--check-config exit code with Marathon's URLs"
expect_eq "$out" "config ok; apps from Marathon (2 masters: http://127.0.0.1:$dead, ...), read at run time" "--check-config with Marathon's URLs"
rm "$TMP/token"
"$vipd" -c "$TMP/vipd.json" --audit "$audit" --check-config >/dev/null 2>"$TMP/check.err"; rc=$?
expect_eq "$rc" 2 "--check-config exit code without the token file"
expect_eq "$(cat "$TMP/check.err")" "vipd: error: /marathon/token_file: cannot read \"$TMP/token\": No such file or directory" "--check-config without the token file"
"$vipd" --apps "http://127.0.0.1:$pb,ftp://x" --audit "$audit" --check-config >/dev/null 2>"$TMP/check.err"; rc=$?
expect_eq "$rc" 2 "--check-config exit code with a bad URL"
expect_eq "$(cat "$TMP/check.err")" "vipd: error: marathon: expected an http:// or https:// URL, got \"ftp://x\"" "--check-config with a bad URL"

if [ "$FAILURES" -ne 0 ]; then
  for f in vipd.err vipd2.err vipctl.err audit.log A.out B.out; do echo "--- $f" >&2; cat "$TMP/$f" >&2; done
fi
finish
