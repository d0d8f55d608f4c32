#!/usr/bin/env bash
# SIGHUP re-reads the configuration file as well as the apps: a new
# configuration with errors is refused with its located errors and the
# running one stays; settings fixed at start-up (lb.interface, dns.listen,
# api.listen, lb.state_file...) say so once each and keep their value; the
# others (log_level, the apps source, drain_seconds...) take effect.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
vipd_pid=
trap 'kill -KILL $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT
audit="$TMP/audit.log"
cfg="$TMP/vipd.json"

app() { # dir id port
  mkdir -p "$1"
  echo "{\"id\": \"/$2\", \"portDefinitions\": [{\"port\": 0, \"labels\": {\"VIP_0\": \"/$2:80\"}}],
 \"tasks\": [{\"id\": \"$2.1\", \"host\": \"127.0.0.1\", \"ports\": [$3]}]}" > "$1/$2.json"
}
reloads() { grep -c '"event":"reload"' "$audit"; }
hup() { # n: sends SIGHUP and waits for the n-th reload line
  kill -HUP "$vipd_pid"
  for _ in $(seq 50); do [ "$(reloads)" -ge "$1" ] && return; sleep 0.1; done
  fail "no reload $1 after SIGHUP"; cat "$TMP/vipd.err" >&2
}

app "$TMP/one" a 9101
app "$TMP/two" b 9102
cat > "$cfg" <<JSON
{"apps": "$TMP/one", "audit_log": "$audit", "reload_seconds": 3600, "log_level": "info",
 "lb": {"interface": "vipd0", "drain_seconds": 30}}
JSON
"$vipd" -c "$cfg" --no-ipvs --run-for 60 2>"$TMP/vipd.err" &
vipd_pid=$!
for _ in $(seq 50); do grep -q '"event":"reload"' "$audit" 2>/dev/null && break; sleep 0.1; done
expect_eq "$(reloads)" 1 "reloads at start"

# Invalid: refused with its located errors; the apps are still re-read
# under the running settings.
cat > "$cfg" <<JSON
{"apps": "$TMP/two", "audit_log": "$audit", "bogus": 1, "lb": {"drain_seconds": -1}}
JSON
hup 2
expect_contains "$(cat "$TMP/vipd.err")" "vipd: error: $cfg: /bogus: unknown setting
vipd: error: $cfg: /lb/drain_seconds: expected an integer >= 0
vipd: warning: SIGHUP: the new configuration has errors (above); keeping the running one"
expect_contains "$(grep '"event":"reload"' "$audit" | sed -n 2p)" "\"apps_path\":\"$TMP/one\""
kill -0 "$vipd_pid" || fail "vipd stopped after an invalid configuration"

# Valid: the apps source and log level change; the interface, the DNS and
# API listeners and the state file cannot, and say so once each.
cat > "$cfg" <<JSON
{"apps": "$TMP/two", "audit_log": "$audit", "reload_seconds": 3600, "log_level": "info",
 "lb": {"interface": "vipd9", "state_file": "$TMP/owned.json", "drain_seconds": 0},
 "dns": {"listen": "127.0.0.1:5399"}, "api": {"listen": "127.0.0.1:5398"}}
JSON
hup 3
sleep 0.3
err=$(cat "$TMP/vipd.err")
for s in lb.interface lb.state_file dns.listen api.listen; do
  expect_eq "$(grep -c "SIGHUP: $s cannot change while vipd runs (restart vipd for it); keeping its running value" "$TMP/vipd.err")" 1 "warnings about $s"
done
expect_contains "$err" "vipd: info: SIGHUP: apps source now $TMP/two"
expect_contains "$(grep '"event":"reload"' "$audit" | sed -n 3p)" "\"apps_path\":\"$TMP/two\""
grep -q '"op":"add_service"' "$audit" || fail "no service planned"
# The new source is the one watched, and debug logging is on.
expect_contains "$err" "$TMP/two: watching for changes"
app "$TMP/two" c 9103
for _ in $(seq 30); do [ "$(reloads)" -ge 4 ] && break; sleep 0.1; done
expect_eq "$(reloads)" 4 "reload after a change in the new source"
# An app removed from the new source goes.
rm "$TMP/two/b.json"
for _ in $(seq 30); do [ "$(reloads)" -ge 5 ] && break; sleep 0.1; done
grep -q '"op":"del_service"' "$audit" || fail "the removed app's service was not deleted"

# A second SIGHUP still asking for another interface: said once more. Its
# log_level warn takes effect: the switch back to the first source is
# applied, and not logged at info level.
sed -i -e 's/"info"/"warn"/' -e "s|\"apps\": \"$TMP/two\"|\"apps\": \"$TMP/one\"|" "$cfg"
hup 6
expect_contains "$(grep '"event":"reload"' "$audit" | sed -n 6p)" "\"apps_path\":\"$TMP/one\""
if grep -q "apps source now $TMP/one" "$TMP/vipd.err"; then fail "log_level warn did not take effect"; fi
sleep 0.3
expect_eq "$(grep -c "SIGHUP: lb.interface cannot change" "$TMP/vipd.err")" 2 "lb.interface warnings after a second SIGHUP"
expect_eq "$(grep -c "SIGHUP: drain_seconds\|SIGHUP: lb.drain_seconds" "$TMP/vipd.err")" 0 "warnings about lb.drain_seconds (it can change)"
kill -TERM "$vipd_pid"; wait "$vipd_pid"; expect_eq "$?" 0 "vipd exit code"
vipd_pid=
finish
