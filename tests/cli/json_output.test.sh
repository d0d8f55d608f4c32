#!/usr/bin/env bash
# --json on vipctl validate, check, vips and lint: one JSON document on
# stdout read with python's json module, its content asserted (validate's
# located errors, check's result per check, vips' services and backends,
# lint's located findings), and the same exit codes as without --json.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipctl="$VIPD_BUILD_DIR/vipctl"
. "$VIPD_SOURCE_DIR/tests/cli/backends_lib.sh"

# py DOC EXPR: EXPR evaluated over the JSON document `d` read from file DOC.
py() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# validate: the located errors, the apps understood, the totals.
cd "$VIPD_SOURCE_DIR/tests/data" || exit 1
"$vipctl" validate --json mixed >"$TMP/v.json" 2>/dev/null; rc=$?
expect_eq "$rc" 2 "validate --json exit code with errors"
expect_eq "$(py "$TMP/v.json" "d['ok'], d['errors'], d['warnings']")" "(False, 1, 0)" "validate ok/errors/warnings"
expect_eq "$(py "$TMP/v.json" "d['diagnostics']")" \
  "[{'severity': 'error', 'file': 'mixed/b-bad.json', 'path': '/apps/1/portDefinitions/0/port', 'message': 'expected a port number from 0 to 65535, got 100000'}]" \
  "validate's located error"
expect_eq "$(py "$TMP/v.json" "[(a['id'], a['source'], a['json_path']) for a in d['apps']]")" \
  "[('/good', 'mixed/a-good.json', ''), ('/also-good', 'mixed/b-bad.json', '/apps/0')]" "validate's apps"
expect_eq "$(py "$TMP/v.json" "d['apps'][0]['ports'][0]['vip_labels'], d['apps'][0]['ports'][0]['protocol']")" \
  "({'VIP_0': '/good:80'}, 'tcp')" "validate's port and VIP label"
expect_eq "$(py "$TMP/v.json" "[(c['protocol'], c['port_index'], c['interval_seconds']) for c in d['apps'][0]['checks']]")" \
  "[('TCP', 0, 60)]" "validate's check with Marathon's defaults"
expect_eq "$(py "$TMP/v.json" "[(t['task'], t['state'], t['host'], t['ports']) for t in d['apps'][0]['tasks']]")" \
  "[('good.1', 'TASK_RUNNING', '127.0.0.1', [31000])]" "validate's task"
expect_eq "$(py "$TMP/v.json" "d['totals']")" \
  "{'files': 2, 'apps': 2, 'tasks': 1, 'checks': 1, 'vip_labels': 1, 'checks_by_kind': {'HTTP': 0, 'HTTPS': 0, 'TCP': 1, 'COMMAND': 0}}" \
  "validate's totals, as the summary line"
cd "$VIPD_SOURCE_DIR" || exit 1
"$vipctl" validate --json examples/apps >"$TMP/v.json" 2>"$TMP/err"; rc=$?
expect_eq "$rc" 0 "validate --json exit code on the examples"
expect_eq "$(cat "$TMP/err")" "" "validate --json stderr on the examples"
expect_eq "$(py "$TMP/v.json" "d['ok'], d['diagnostics'], d['totals']['apps'], d['totals']['tasks'], d['totals']['vip_labels']")" \
  "(True, [], 7, 9, 6)" "validate --json on the examples: as the summary line"

cat > "$TMP/app.json" <<JSON
{"id": "/svc", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/svc:80"}}],
 "healthChecks": [
  {"protocol": "HTTP", "path": "/health", "portIndex": 0, "timeoutSeconds": 2},
  {"protocol": "COMMAND", "command": {"value": "curl -s -o /dev/null http://127.0.0.1:\$PORT0/"}, "timeoutSeconds": 2}],
 "tasks": [{"id": "svc.up", "host": "127.0.0.1", "ports": [$up]},
           {"id": "svc.bad", "host": "127.0.0.1", "ports": [$bad]}]}
JSON
cat > "$TMP/ok.json" <<JSON
{"id": "/ok", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "10.0.0.9:80"}}],
 "healthChecks": [{"protocol": "TCP", "portIndex": 0, "timeoutSeconds": 2}],
 "tasks": [{"id": "ok.1", "host": "127.0.0.1", "ports": [$up]},
           {"id": "ok.2", "host": "127.0.0.1", "ports": [$closed]}]}
JSON

# check: one result per task and check, with outcome, status and path.
"$vipctl" check --json "$TMP/app.json" >"$TMP/c.json"; rc=$?
expect_eq "$rc" 1 "check --json exit code when some checks fail"
expect_eq "$(py "$TMP/c.json" "d['ok'], d['run'], d['failed']")" "(False, 4, 1)" "check ok/run/failed"
expect_eq "$(py "$TMP/c.json" "sorted((r['task'], r['check'], r['protocol'], r['path'], r['outcome'], r['healthy'], r.get('http_status')) for r in d['results'] if r['check'] == 0)")" \
  "[('svc.bad', 0, 'HTTP', 'direct', 'http_status', False, 500), ('svc.up', 0, 'HTTP', 'direct', 'ok', True, 200)]" \
  "check's HTTP results"
expect_eq "$(py "$TMP/c.json" "[(r['task'], r['path'], r['outcome'], r.get('exit_code')) for r in d['results'] if r['check'] == 1]")" \
  "[('svc.up', 'native', 'ok', 0), ('svc.bad', 'native', 'ok', 0)]" "check's COMMAND results (curl without -f passes on 500)"
expect_eq "$(py "$TMP/c.json" "[r['output'] for r in d['results'] if r['task'] == 'svc.bad' and r['check'] == 0]")" \
  "['HTTP 500']" "check's HTTP output"
"$vipctl" check --json --no-native --app /svc "$TMP/app.json" >"$TMP/c.json"
expect_eq "$(py "$TMP/c.json" "[(r['path'], r['shell_reason']) for r in d['results'] if r['check'] == 1][0]")" \
  "('shell', 'native curl checks are switched off')" "check --json --no-native: the path and why"
"$vipctl" check --json "$TMP/ok.json" >"$TMP/c.json"; rc=$?
expect_eq "$rc" 1 "check --json exit code, one TCP check failing"
expect_eq "$(py "$TMP/c.json" "[(r['task'], r['outcome']) for r in d['results']]")" \
  "[('ok.1', 'ok'), ('ok.2', 'connect_failed')]" "check's TCP results"

# vips: each service with its protocol, address and backends' health and weight.
"$vipctl" vips --json "$TMP/app.json" "$TMP/ok.json" >"$TMP/s.json" 2>/dev/null; rc=$?
expect_eq "$rc" 0 "vips --json exit code"
expect_eq "$(py "$TMP/s.json" "d['ok'], d['checked'], d['services'], d['backends'], d['healthy']")" \
  "(True, True, 2, 4, 2)" "vips' counts"
expect_eq "$(py "$TMP/s.json" "[(v['vip'], v['protocol'], v.get('name')) for v in d['vips']]")" \
  "[('10.0.0.9:80', 'TCP', None), ('/svc:80', 'TCP', '/svc')]" "vips' services"
expect_eq "$(py "$TMP/s.json" "[v['address'] == '10.0.0.9:80' or v['address'].startswith('11.') for v in d['vips']]")" \
  "[True, True]" "vips' addresses"
expect_eq "$(py "$TMP/s.json" "[(b['address'], b['health'], b['weight']) for b in d['vips'][1]['backends']]")" \
  "[('127.0.0.1:$up', 'healthy', 1), ('127.0.0.1:$bad', 'unhealthy', 0)]" "vips' backends of /svc"
expect_eq "$(py "$TMP/s.json" "[(b['address'], b['health'], b['weight']) for b in d['vips'][0]['backends']]")" \
  "[('127.0.0.1:$up', 'healthy', 1), ('127.0.0.1:$closed', 'unhealthy', 0)]" "vips' backends of 10.0.0.9:80"
expect_eq "$(py "$TMP/s.json" "d['vips'][1]['fqdns'][0]")" "svc.marathon.l4lb.thisdcos.directory" "vips' FQDNs"
"$vipctl" vips --json --no-checks "$TMP/ok.json" >"$TMP/s.json" 2>/dev/null
expect_eq "$(py "$TMP/s.json" "d['checked'], 'healthy' in d, [b['health'] for b in d['vips'][0]['backends']]")" \
  "(False, False, ['unchecked', 'unchecked'])" "vips --json --no-checks"

# lint: each finding located, with its code and fix.
"$vipctl" lint --json "$TMP/app.json" >"$TMP/l.json"; rc=$?
expect_eq "$rc" 1 "lint --json exit code with findings"
expect_eq "$(py "$TMP/l.json" "d['ok'], d['count'], len(d['findings'])")" "(False, 1, 1)" "lint's count"
expect_eq "$(py "$TMP/l.json" "[(f['file'], f['path'], f['app'], f['check']) for f in d['findings']]")" \
  "[('$TMP/app.json', '/healthChecks/1/command/value', '/svc', 1)]" "lint's located finding"
expect_eq "$(py "$TMP/l.json" "d['findings'][0]['code'], d['findings'][0]['message']")" \
  "('no_status_check', 'curl without -f exits 0 on any HTTP answer, 500 included: the check passes whenever the server answers')" "lint's finding"
expect_contains "$(py "$TMP/l.json" "d['findings'][0]['fix']")" "-f"
"$vipctl" lint --json "$TMP/ok.json" >"$TMP/l.json"; rc=$?
expect_eq "$rc" 0 "lint --json exit code without findings"
expect_eq "$(py "$TMP/l.json" "d['ok'], d['findings']")" "(True, [])" "lint --json without findings"
"$vipctl" lint --json --bogus "$TMP/ok.json" >/dev/null 2>&1; expect_eq "$?" 64 "lint --json bad usage"
finish
