#!/usr/bin/env bash
# Issue 9 item 5, as a user meets it (--no-ipvs, a named-VIP range of 8
# addresses, DNS on loopback): app A's name gets address X (its hash home);
# app B, whose name has the same home and sorts before A's (so the old rule,
# a function of the set of names alone, gave B address X and moved A),
# gets another address and A keeps X. A restart with B alone keeps B's
# address (the state file), and A's freed X stays in quarantine: a newcomer
# with that home does not get it, A back does. A changed range moves the
# names, audited.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
vipd="$VIPD_BUILD_DIR/vipd"
command -v dig >/dev/null || { echo "FAIL: no dig (bind9-dnsutils): scripts/setup.sh installs it"; exit 1; }
port=$((10000 + RANDOM % 10000))

# FNV-1a-32 of a name, mod the range's 8 addresses: the home (docs/dataplane.md, "Named VIP addresses").
home() {
  local s=$1 h=2166136261 i c
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(((h ^ c) * 16777619 & 0xffffffff))
  done
  echo $((h % 8))
}
app() { # id
  cat > "$TMP/apps/${1#/}.json" <<JSON
{"id": "$1", "portDefinitions": [{"port": 0, "labels": {"VIP_0": "$1:80"}}]}
JSON
}
ha=$(home /a)
b=
for i in $(seq 0 200); do # "/<digits>" sorts before "/a"
  if [ "$(home "/$i")" = "$ha" ]; then b=/$i; break; fi
done
[ -n "$b" ] || fail "no name with /a's home"

mkdir -p "$TMP/apps"
cat > "$TMP/vipd.json" <<JSON
{"dns": {"listen": "127.0.0.1:$port", "zones": ["vips.test"], "ttl": 5},
 "lb": {"named_vip_range_v4": "10.201.0.0-10.201.0.7", "state_file": "$TMP/state.json",
        "vip_quarantine_seconds": 600},
 "reload_seconds": 1}
JSON
q() { dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short "$1.marathon.vips.test" A 2>/dev/null; }
wait_resolves() { # label
  for _ in $(seq 100); do q "$1" | grep -q '^10\.201\.' && return 0; sleep 0.1; done
  fail "$1 does not resolve"
}
start() {
  "$vipd" -c "$TMP/vipd.json" --no-ipvs --apps "$TMP/apps" --audit "$TMP/audit.log" \
    --run-for 60 2>>"$TMP/vipd.err" &
  vipd_pid=$!
}
trap 'kill $vipd_pid 2>/dev/null; rm -rf "$TMP"' EXIT

app /a
start
wait_resolves a
x=$(q a)
expect_eq "$x" "10.201.0.$ha" "A alone takes its home"

app "$b"
wait_resolves "${b#/}"
xb=$(q "${b#/}")
expect_eq "$(q a)" "$x" "A keeps its address when B (same home, sorts first) arrives"
[ "$xb" != "$x" ] || fail "B was given A's address $x"
expect_contains "$(cat "$TMP/state.json")" "\"name\":\"/a\",\"ipv4\":\"$x\""

# Restart with B alone: B keeps its recorded address (its home is X, now
# A's freed address, in quarantine).
kill "$vipd_pid"; wait "$vipd_pid"
rm "$TMP/apps/a.json"
start
wait_resolves "${b#/}"
expect_eq "$(q "${b#/}")" "$xb" "B keeps its address across a restart"
for _ in $(seq 50); do grep -q '"freed_at"' "$TMP/state.json" && break; sleep 0.1; done
expect_contains "$(cat "$TMP/state.json")" "\"name\":\"/a\",\"ipv4\":\"$x\",\"ipv6\""
expect_contains "$(cat "$TMP/state.json")" "\"freed_at\""
# A newcomer with the same home does not get X during the quarantine.
c=
for i in $(seq 201 600); do
  if [ "$(home "/$i")" = "$ha" ]; then c=/$i; break; fi
done
app "$c"
wait_resolves "${c#/}"
[ "$(q "${c#/}")" != "$x" ] || fail "$c was given the quarantined $x"
app /a
wait_resolves a
expect_eq "$(q a)" "$x" "A back within its quarantine gets its address again"
kill -0 "$vipd_pid" 2>/dev/null || fail "vipd died"

# The range changed: the recorded addresses are outside it, the one case of
# a move, audited.
kill "$vipd_pid"; wait "$vipd_pid"
sed -i 's/10\.201\.0\.0-10\.201\.0\.7/10.202.0.0-10.202.0.7/' "$TMP/vipd.json"
start
for _ in $(seq 100); do q a | grep -q '^10\.202\.' && break; sleep 0.1; done
case "$(q a)" in 10.202.0.*) ;; *) fail "A not moved into the new range: [$(q a)]" ;; esac
expect_contains "$(grep '"event":"vip_move"' "$TMP/audit.log")" \
  "\"name\":\"/a\",\"from\":\"$x\",\"to\":\"$(q a)\",\"reason\":\"out_of_range\""
expect_contains "$(cat "$TMP/vipd.err")" "named VIP /a moved from $x to $(q a) (its address is outside the configured range)"
finish
