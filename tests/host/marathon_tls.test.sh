#!/usr/bin/env bash
# vipd following Marathon over HTTPS with `marathon.ca_file`. The masters
# are tests/tools/marathon_standin.py --tls, a stand-in for Marathon (which
# does not run here), with certificates this test makes: master A's signed
# by the CA vipd is given, master B's by another CA. vipd reads the state
# and follows the events over TLS from A; B, and A when vipd is given no CA
# file, are refused with one located warning about the certificate, the
# last good state stays programmed, and the token and password are sent
# only to a verified master and never logged.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
. "$VIPD_SOURCE_DIR/tests/host/marathon_lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
vipctl="$VIPD_BUILD_DIR/vipctl"
pids=()
trap 'kill -KILL "${pids[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
audit="$TMP/audit.log"
secret="s3cr3t-token-$$"
password="pa55-word-$$"

# ca NAME: a CA; cert NAME CA: a server certificate for 127.0.0.1 signed by CA.
ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vipd test $1" \
    -keyout "$TMP/$1.key" -out "$TMP/$1.pem" 2>/dev/null || fail "openssl: CA $1"
}
cert() {
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$TMP/$1.key" -out "$TMP/$1.csr" 2>/dev/null &&
  printf 'subjectAltName=IP:127.0.0.1\n' > "$TMP/$1.ext" &&
  openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/$2.pem" -CAkey "$TMP/$2.key" \
    -CAcreateserial -days 2 -extfile "$TMP/$1.ext" -out "$TMP/$1.pem" 2>/dev/null ||
    fail "openssl: certificate $1"
}
no_secrets() { # what file...
  local what=$1; shift
  if grep -q -- "$secret" "$@"; then fail "$what: the token is logged"; fi
  if grep -q -- "$password" "$@"; then fail "$what: the password is logged"; fi
}

ca ca1
ca ca2
cert serverA ca1
cert serverB ca2
for b in b1 b2; do backend $b; done
p1=$(cat "$TMP/b1.port") p2=$(cat "$TMP/b2.port")
apps_file "$(task web.1 "$p1")"
master A 5 serverA
master B 6 serverB
pa=$(awk '/^port/{print $2; exit}' "$TMP/A.out")
pb=$(awk '/^port/{print $2; exit}' "$TMP/B.out")
A="https://127.0.0.1:$pa" B="https://127.0.0.1:$pb"

echo "$secret" > "$TMP/token"
echo "$password" > "$TMP/password"
cat > "$TMP/vipd.json" <<JSON
{"apps": "$A,$B", "audit_log": "$audit",
 "marathon": {"token_file": "$TMP/token", "ca_file": "$TMP/ca1.pem"}}
JSON
"$vipd" -c "$TMP/vipd.json" --no-ipvs --run-for 300 2>"$TMP/vipd.err" &
vipd_pid=$!
pids+=($vipd_pid)

# With A's CA: the state is read over TLS, with the token, and programmed.
wait_for "$audit" '"event":"reload".*"apps":1,"tasks":1' 5000 "state read over TLS"
expect_contains "$(grep '"event":"reload"' "$audit")" "\"apps_path\":\"$A\""
wait_for "$audit" "\"op\":\"add_dest\".*\"dest\":\"127.0.0.1:$p1\",\"weight\":1" 5000 "web.1 healthy"
expect_contains "$(cat "$TMP/A.out")" "auth /v2/events token=$secret"
expect_contains "$(cat "$TMP/A.out")" "auth /v2/apps token=$secret"

# Events over TLS: a task started and one being killed, each within 1 s.
apps_file "$(task web.1 "$p1")" "$(task web.2 "$p2")"
status_event A web.2 TASK_RUNNING "$p2"
wait_for "$audit" '"event":"source".*"task":"web.2","task_status":"TASK_RUNNING","change":"added"' 1000 "web.2 started (event over TLS)"
wait_for "$audit" "\"op\":\"add_dest\".*\"dest\":\"127.0.0.1:$p2\",\"weight\":1" 3000 "web.2 programmed"
status_event A web.1 TASK_KILLING "$p1"
wait_for "$audit" "\"op\":\"edit_dest\".*\"dest\":\"127.0.0.1:$p1\",\"weight\":0" 1000 "web.1 killing (event over TLS)"
sleep 0.5

# A's stream ends: vipd fails over to B, whose certificate its CA did not
# sign. B is refused (vipd's TLS layer sends the alert), one located warning
# says it is a certificate problem, nothing programmed changes, and vipd
# goes back to A. Twice: still one warning.
before=$(ipvs_lines | wc -l)
reloads=$(count "$audit" '"event":"reload"')
say A close
wait_for "$TMP/B.out" '^tls-refused' 5000 "B refused"
wait_count "$TMP/A.out" '^attached' 2 10000 "back to A"
wait_count "$TMP/A.out" '^apps ' 2 5000 "A's state read again"
say A close
wait_count "$TMP/B.out" '^tls-refused' 2 10000 "B refused again"
wait_count "$TMP/A.out" '^apps ' 3 10000 "A's state read a third time"
warning="vipd: warning: marathon $B /v2/events: SSL certificate problem: unable to get local issuer certificate; keeping the last good state"
expect_eq "$(grep -c "marathon $B" "$TMP/vipd.err")" 1 "warnings about B (one per distinct problem)"
expect_contains "$(cat "$TMP/vipd.err")" "$warning"
expect_not_contains "$(cat "$TMP/B.out")" "auth " # the token never went to B
sleep 0.5
expect_eq "$(ipvs_lines | tail -n +"$((before + 1))" | grep -c 'del_\|add_')" 0 "services or backends added or removed around B's refusal"
expect_eq "$(count "$audit" '"event":"reload"')" "$((reloads + 2))" "reloads (A's two reads; none from B)"
kill -TERM $vipd_pid; wait $vipd_pid; expect_eq "$?" 0 "vipd exit code after SIGTERM"
no_secrets "vipd with the CA" "$TMP/vipd.err" "$audit"

# No CA file: the system's CAs do not know A's. Refused with one warning,
# however often vipd retries; nothing read, nothing planned, no token sent.
rm -f "$audit"
refused=$(count "$TMP/A.out" '^tls-refused')
auths=$(count "$TMP/A.out" '^auth ')
cat > "$TMP/noca.json" <<JSON
{"apps": "$A", "audit_log": "$audit", "marathon": {"token_file": "$TMP/token"}}
JSON
"$vipd" -c "$TMP/noca.json" --no-ipvs --run-for 60 2>"$TMP/vipd2.err" &
vipd_pid=$!
pids+=($vipd_pid)
wait_count "$TMP/A.out" '^tls-refused' "$((refused + 3))" 15000 "retries refused without the CA"
expect_eq "$(grep -c "marathon $A" "$TMP/vipd2.err")" 1 "warnings without the CA (one per distinct problem)"
expect_contains "$(cat "$TMP/vipd2.err")" "vipd: warning: marathon $A /v2/events: SSL certificate problem: unable to get local issuer certificate; keeping the last good state"
expect_eq "$(count "$TMP/A.out" '^auth ')" "$auths" "requests carrying the token to an unverified master"
expect_eq "$(count "$audit" '"event":"reload"')" 0 "state reads without the CA"
expect_eq "$(count "$audit" '"event":"ipvs"')" 0 "IPVS operations without the CA"
kill -TERM $vipd_pid; wait $vipd_pid; expect_eq "$?" 0 "vipd exit code after SIGTERM (no CA)"
no_secrets "vipd without the CA" "$TMP/vipd2.err" "$audit"

# Basic auth over TLS (marathon.user and marathon.password_file).
rm -f "$audit"
cat > "$TMP/basic.json" <<JSON
{"apps": "$A", "audit_log": "$audit",
 "marathon": {"user": "vipd", "password_file": "$TMP/password", "ca_file": "$TMP/ca1.pem"}}
JSON
"$vipd" -c "$TMP/basic.json" --no-ipvs --run-for 30 2>"$TMP/vipd3.err" &
vipd_pid=$!
pids+=($vipd_pid)
wait_for "$audit" '"event":"reload".*"apps":1,"tasks":2' 5000 "basic auth over TLS: state read"
expect_contains "$(cat "$TMP/A.out")" "auth /v2/apps Basic $(printf 'vipd:%s' "$password" | base64)"
kill -TERM $vipd_pid; wait $vipd_pid
no_secrets "vipd with basic auth" "$TMP/vipd3.err" "$audit"

# vipctl validate over TLS reads the CA file from -c; without it, the same
# certificate problem, exit 2.
out=$("$vipctl" -c "$TMP/vipd.json" validate "$A" 2>"$TMP/vipctl.err"); rc=$?
expect_eq "$rc" 0 "vipctl validate over TLS exit code"
expect_contains "$out" "app /web (marathon $A /v2/apps?embed=apps.tasks /apps/0)"
"$vipctl" validate "$A" >/dev/null 2>"$TMP/vipctl.err"; rc=$?
expect_eq "$rc" 2 "vipctl validate without the CA exit code"
expect_contains "$(cat "$TMP/vipctl.err")" "marathon $A /v2/apps?embed=apps.tasks: SSL certificate problem"
no_secrets "vipctl" "$TMP/vipctl.err"

if [ "$FAILURES" -ne 0 ]; then
  for f in vipd.err vipd2.err vipd3.err vipctl.err A.out B.out; do echo "--- $f" >&2; cat "$TMP/$f" >&2; done
fi
finish
