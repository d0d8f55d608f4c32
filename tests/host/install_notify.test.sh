#!/usr/bin/env bash
# systemd's Type=notify as the installed unit relies on: vipd --no-ipvs with
# NOTIFY_SOCKET set sends READY=1 on a real AF_UNIX datagram socket once the
# first round is programmed (its audit lines are written by then), and
# STOPPING=1 on SIGTERM; a path and an abstract "@name" both work; a bad
# NOTIFY_SOCKET is a warning and vipd runs on.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"

cat > "$TMP/apps.json" <<'JSON'
{"id": "/web", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "10.9.0.1:80"}}],
 "tasks": [{"id": "web.1", "host": "127.0.0.1", "ports": [31001]}]}
JSON

# The manager's side: receives datagrams until STOPPING=1 (or 30 s), and on
# READY=1 notes how many add_dest lines the audit log already holds.
cat > "$TMP/manager.py" <<'PY'
import socket, sys, time
name, audit, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
s.settimeout(30)
open(out + ".bound", "w").close()
with open(out, "w") as f:
    try:
        while True:
            msg = s.recv(4096).decode()
            seen = ""
            if msg == "READY=1":
                seen = " add_dest_lines=%d" % open(audit).read().count('"op":"add_dest"')
            f.write(msg + seen + "\n")
            f.flush()
            if msg == "STOPPING=1":
                break
    except socket.timeout:
        f.write("timeout\n")
PY

run_case() { # NOTIFY_SOCKET-value what
  local sock=$1 what=$2 pid mgr i
  rm -f "$TMP/got" "$TMP/got.bound" "$TMP/audit.log"
  python3 "$TMP/manager.py" "$sock" "$TMP/audit.log" "$TMP/got" &
  mgr=$!
  for i in $(seq 100); do [ -e "$TMP/got.bound" ] && break; sleep 0.05; done
  NOTIFY_SOCKET=$sock "$vipd" --no-ipvs --apps "$TMP/apps.json" --audit "$TMP/audit.log" \
    2>"$TMP/err" &
  pid=$!
  for i in $(seq 200); do grep -q READY "$TMP/got" 2>/dev/null && break; sleep 0.05; done
  kill -TERM "$pid"
  wait "$pid"; expect_eq "$?" 0 "$what: vipd's exit status after SIGTERM"
  wait "$mgr"
  expect_eq "$(cat "$TMP/got")" "READY=1 add_dest_lines=1
STOPPING=1" "$what: READY=1 after the first round, STOPPING=1 on SIGTERM"
}

run_case "$TMP/notify.sock" "path"
run_case "@vipd-test-notify-$$" "abstract name"

# Not a path nor an abstract name: said on stderr, and vipd runs as before.
rm -f "$TMP/audit.log"
NOTIFY_SOCKET=relative.sock "$vipd" --no-ipvs --apps "$TMP/apps.json" --audit "$TMP/audit.log" \
  --run-for 1 2>"$TMP/err"; rc=$?
expect_eq "$rc" 0 "bad NOTIFY_SOCKET: exit status"
expect_contains "$(cat "$TMP/err")" "vipd: warning: systemd not told READY=1: NOTIFY_SOCKET \"relative.sock\": expected an absolute path or an abstract name starting with '@'"
expect_eq "$(grep -c '"op":"add_dest"' "$TMP/audit.log")" 1 "bad NOTIFY_SOCKET: the round still ran"
# No manager listening: the send fails, vipd goes on.
NOTIFY_SOCKET=$TMP/nobody.sock "$vipd" --no-ipvs --apps "$TMP/apps.json" --audit "$TMP/audit.log" \
  --run-for 1 2>"$TMP/err"; rc=$?
expect_eq "$rc" 0 "no manager: exit status"
expect_contains "$(cat "$TMP/err")" "systemd not told READY=1: NOTIFY_SOCKET $TMP/nobody.sock: sending READY=1: No such file or directory"
finish
