#!/usr/bin/env bash
# A directory of app definitions edited under a running vipd, with
# reload_seconds 3600 so that only inotify can explain a reload: a new file,
# an editor's write-then-rename, a deleted file, a file made invalid and then
# fixed, the directory itself replaced. Each change is applied once (one
# `reload` audit line), within about 1 s, the invalid file's app kept at its
# last good definition. Then a single-file source replaced by rename, and
# polling as the fallback where inotify cannot watch.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
vipd_pid=
trap 'kill -KILL $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT
audit="$TMP/audit.log"

start_vipd() { # apps-path reload-seconds
  rm -f "$audit"
  cat > "$TMP/vipd.json" <<JSON
{"apps": "$1", "audit_log": "$audit", "reload_seconds": $2}
JSON
  "$vipd" -c "$TMP/vipd.json" --no-ipvs --run-for 120 2>"$TMP/vipd.err" &
  vipd_pid=$!
  for _ in $(seq 100); do grep -q '"event":"reload"' "$audit" 2>/dev/null && return; sleep 0.1; done
  fail "vipd never loaded its apps"; cat "$TMP/vipd.err" >&2
}
stop_vipd() {
  kill -TERM "$vipd_pid"; wait "$vipd_pid"; expect_eq "$?" 0 "vipd exit code after SIGTERM"
  vipd_pid=
}
app() { # id task-id port
  echo "{\"id\": \"/$1\", \"portDefinitions\": [{\"port\": 0, \"labels\": {\"VIP_0\": \"/$1:80\"}}],"
  echo " \"tasks\": [{\"id\": \"$2\", \"host\": \"127.0.0.1\", \"ports\": [$3]}]}"
}
reloads() { grep -c '"event":"reload"' "$audit"; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
# The n-th reload comes within 1.5 s of the change (the settle delay is
# 150 ms: the rest is room for a loaded machine), says `want`, and no other
# follows for the same change.
expect_reload() { # n want what
  local start; start=$(ms_now)
  until [ "$(reloads)" -ge "$1" ]; do
    if [ $(( $(ms_now) - start )) -gt 1500 ]; then
      fail "$3: no reload within 1.5 s"; cat "$audit" >&2; return 1
    fi
    sleep 0.05
  done
  expect_contains "$(grep '"event":"reload"' "$audit" | sed -n "$1p")" "$2"
  sleep 0.6
  expect_eq "$(reloads)" "$1" "$3: reload lines (each change applied once)"
}
expect_op() { # pattern what
  grep -q "$1" "$audit" || fail "$2: the audit log has no [$1]"
}

apps="$TMP/apps"
mkdir -p "$apps"
app a a.1 9001 > "$apps/a.json"
start_vipd "$apps" 3600
expect_contains "$(cat "$TMP/vipd.err")" "$apps: watching for changes"
expect_reload 1 '"files":1,"apps":1,' "start"

# A new file, written in place (create, write, close).
app b b.1 9002 > "$apps/b.json"
expect_reload 2 '"files":2,"apps":2,' "new file"
expect_op '"op":"add_dest".*"dest":"127.0.0.1:9002","weight":1' "new file"

# An editor's save: a temporary file in the directory, renamed over.
app b b.2 9003 > "$apps/.b.json.tmp"
mv "$apps/.b.json.tmp" "$apps/b.json"
expect_reload 3 '"files":2,"apps":2,' "write-then-rename"
expect_op '"op":"add_dest".*"dest":"127.0.0.1:9003","weight":1' "write-then-rename"
expect_op '"op":"edit_dest".*"dest":"127.0.0.1:9002","weight":0' "write-then-rename"

# A swap file coming and going changes no definition: no reload.
echo junk > "$apps/.b.json.swp"; rm "$apps/.b.json.swp"
echo notes > "$apps/README"
sleep 0.8
expect_eq "$(reloads)" 3 "reload lines after files that are not definitions"

# A deleted file: its app goes.
rm "$apps/a.json"
expect_reload 4 '"files":1,"apps":1,' "deleted file"
expect_op '"op":"del_service"' "deleted file"

# A file made invalid: its app keeps its last good definition.
echo '{"id": "/b", "healthChecks": [{"protocol": "NOPE"}]}' > "$apps/b.json"
expect_reload 5 '"errors":1,"kept_last_good":1' "invalid file"
expect_contains "$(cat "$TMP/vipd.err")" "$apps/b.json: /healthChecks/0/protocol: expected one of"
if grep -q '"dest":"127.0.0.1:9003","weight":0' "$audit"; then
  fail "an invalid file took its app's backend out of rotation"
fi
# ... and fixed.
app b b.3 9004 > "$apps/b.json"
expect_reload 6 '"files":1,"apps":1,"tasks":1,"check_instances":0,"errors":0,"kept_last_good":0' "fixed file"
expect_op '"op":"add_dest".*"dest":"127.0.0.1:9004","weight":1' "fixed file"

# The directory itself replaced (as a deployment tool does): one reload,
# and the new directory is the one watched from then on.
mkdir "$TMP/apps.new"
app c c.1 9005 > "$TMP/apps.new/c.json"
mv "$apps" "$TMP/apps.old"; mv "$TMP/apps.new" "$apps"
expect_reload 7 '"files":1,"apps":1,' "directory replaced"
expect_op '"op":"add_dest".*"dest":"127.0.0.1:9005","weight":1' "directory replaced"
app d d.1 9006 > "$apps/d.json"
expect_reload 8 '"files":2,"apps":2,' "new file in the replacing directory"
app e e.1 9007 > "$TMP/apps.old/e.json"
sleep 0.8
expect_eq "$(reloads)" 8 "reload lines after a change in the replaced directory"
stop_vipd

# A single-file source: written in place, then replaced by rename (the
# directory is watched, filtered to the file's name).
app f f.1 9010 > "$TMP/one.json"
start_vipd "$TMP/one.json" 3600
expect_reload 1 '"files":1,"apps":1,' "file source start"
app f f.2 9011 > "$TMP/one.json"
expect_reload 2 '"files":1,"apps":1,' "file source written"
expect_op '"dest":"127.0.0.1:9011","weight":1' "file source written"
app f f.3 9012 > "$TMP/.one.json.tmp"; mv "$TMP/.one.json.tmp" "$TMP/one.json"
expect_reload 3 '"files":1,"apps":1,' "file source renamed over"
expect_op '"dest":"127.0.0.1:9012","weight":1' "file source renamed over"
touch "$TMP/other.json"
sleep 0.8
expect_eq "$(reloads)" 3 "reload lines after another file in the same directory"
stop_vipd

# Where inotify cannot watch (the parent directory does not exist yet),
# polling every reload_seconds takes over, and the watch comes back once it
# can; a watch lost (the parent removed) falls back to polling again.
start_vipd "$TMP/later/apps.json" 1
expect_contains "$(cat "$TMP/vipd.err")" "$TMP/later/apps.json: cannot watch for changes (inotify on $TMP/later: No such file or directory); checking every 1 s instead"
mkdir "$TMP/later"; app g g.1 9020 > "$TMP/later/apps.json"
for _ in $(seq 30); do [ "$(reloads)" -ge 2 ] && break; sleep 0.1; done
expect_eq "$(reloads)" 2 "reload lines after polling found the file"
expect_contains "$(cat "$TMP/vipd.err")" "$TMP/later/apps.json: watching for changes again"
rm -r "$TMP/later"
for _ in $(seq 30); do grep -q "lost the inotify watch" "$TMP/vipd.err" && break; sleep 0.1; done
expect_contains "$(cat "$TMP/vipd.err")" "$TMP/later/apps.json: lost the inotify watch; checking for changes every 1 s instead"
stop_vipd
finish
