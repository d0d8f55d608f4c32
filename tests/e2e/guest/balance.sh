# Guest side of balance.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

e2e_two_backends

mkdir -p /tmp/e2e/apps
app() { e2e_http_app /web 10.200.0.10:80 1 "$1" >/tmp/e2e/apps/web.json; } # TASKS_JSON
TA=$(e2e_task web.a 10.61.1.2)
TB=$(e2e_task web.b 10.61.2.2)
app "$TA, $TB"
cat >/tmp/e2e/vipd.json <<'JSON'
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit.log", "reload_seconds": 1,
 "lb": {"interface": "vipd0", "drain_seconds": 4, "resync_seconds": 2}}
JSON
SVC=10.200.0.10:80
e2e_vipd /tmp/e2e/vipd.json

lib_log "both healthy: both in rotation, VIP routed through vipd0"
e2e_wait_for "a in rotation" 10 e2e_weight_is $SVC 10.61.1.2:8080 1
e2e_wait_for "b in rotation" 10 e2e_weight_is $SVC 10.61.2.2:8080 1
lib_assert_contains "$(ip -4 route show table local type local dev vipd0)" "local 10.200.0.10 proto static scope host src" "VIP routed, src the node's address"
lib_assert_eq "" "$(ip -o addr show dev vipd0 scope global)" "no VIP address on vipd0"
lib_assert_eq "a b" "$(lib_who_answers http://10.200.0.10/ 20)" "traffic reaches both backends"

lib_log "the backend holding an open connection fails its check: weight 0 within interval + timeout, the connection finishes"
curl -sS --max-time 10 http://10.200.0.10/slow/4 -o /tmp/e2e/slow.out &
slow=$!
sleep 0.7
# Which backend IPVS gave the open connection (its connection table says).
held=$(ipvsadm -Lnc | awk '$3 == "ESTABLISHED" && $5 == "10.200.0.10:80" { print $6; exit }')
case $held in
10.61.1.2:8080) down=a up=b ;;
10.61.2.2:8080) down=b up=a ;;
*) lib_fail "no established connection through the VIP (got [$held])" ;;
esac
touch /tmp/e2e/$down.down
e2e_wait_for "$down drained (weight 0)" 4 e2e_weight_is $SVC "$held" 0
lib_assert_eq "$up" "$(lib_who_answers http://10.200.0.10/ 20)" "new connections go to $up only"
wait $slow
lib_assert_eq 0 $? "the connection open during the drain completed"
lib_assert_eq "$down" "$(cat /tmp/e2e/slow.out)" "the slow answer came from $down, the drained backend"
lib_assert_contains "$(cat /tmp/e2e/audit.log)" "\"task\":\"web.$down\",\"from\":\"healthy\",\"to\":\"unhealthy\"" "audit: $down's transition"
lib_assert_contains "$(cat /tmp/e2e/audit.log)" '"op":"edit_dest","service":"TCP 10.200.0.10:80"' "audit: the weight change"

lib_log "$down recovers: back in rotation"
rm /tmp/e2e/$down.down
e2e_wait_for "$down back in rotation" 5 e2e_weight_is $SVC "$held" 1
# wlc weighs inactive connections: the one with fewer takes the next ones first.
lib_assert_contains "$(lib_who_answers http://10.200.0.10/ 40)" "$down" "new connections reach $down again"

lib_log "task b removed from the definitions: drained, then removed"
app "$TA"
e2e_wait_for "b drained" 5 e2e_weight_is $SVC 10.61.2.2:8080 0
e2e_wait_for "b removed after the drain period" 8 e2e_weight_is $SVC 10.61.2.2:8080 none
lib_assert_eq "a" "$(lib_who_answers http://10.200.0.10/ 10)" "only a answers"

lib_log "stop: the kernel state stays"
e2e_stop_vipd
lib_assert_eq 1 "$(e2e_dest_weight $SVC 10.61.1.2:8080)" "service and dest kept after stop"
echo "e2e balance: all passed"
