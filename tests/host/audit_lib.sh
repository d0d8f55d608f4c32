# Helpers for the audit host tests: a busy app whose COMMAND checks flap every
# second (many audit lines), and a checker that every line of a log is one
# whole JSON object and that "seq" has no gap not said by an audit_lost line.
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"

write_flapping_app() { # dir tasks
  python3 - "$1" "$2" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
# Healthy in even seconds, unhealthy in odd ones: a transition per run.
cmd = '[ $(( $(date +%s) % 2 )) -eq 0 ]'
app = {"id": "/flap", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/flap:80"}}],
       "healthChecks": [{"protocol": "COMMAND", "command": {"value": cmd},
                         "intervalSeconds": 1, "timeoutSeconds": 1,
                         "gracePeriodSeconds": 0, "delaySeconds": 0}],
       "tasks": [{"id": "flap.%03d" % i, "host": "127.0.0.1", "ports": [20000 + i]}
                 for i in range(n)]}
json.dump(app, open(d + "/flap.json", "w"))
PY
}

# Prints "lines first_seq last_seq lost" or the first bad line and fails.
check_audit_lines() { # files...
  python3 - "$@" <<'PY'
import json, sys
seq, lines, lost, first = None, 0, 0, None
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    if data and not data.endswith(b"\n"):
        sys.exit("%s does not end with a whole line" % path)
    for raw in data.splitlines():
        lines += 1
        try:
            o = json.loads(raw)
        except ValueError:
            sys.exit("%s: line %d is not one JSON object: %r" % (path, lines, raw[:200]))
        want = o.get("lines", 0) if o["event"] == "audit_lost" else 0
        if seq is not None and o["seq"] != seq + 1 + want:
            sys.exit("%s: seq %d follows %d (audit_lost said %d)" % (path, o["seq"], seq, want))
        if first is None:
            first = o["seq"]
        lost += want
        seq = o["seq"]
print(lines, first, seq, lost)
PY
}
