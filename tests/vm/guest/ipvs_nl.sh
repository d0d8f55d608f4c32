# Guest side of ipvs_nl: drives src/lb/ipvs_*.c through ipvs_tool and checks every
# effect with ipvsadm, which reads the kernel's table on its own.
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"

T=$VIPD_BUILD_DIR/tests/ipvs_tool
[[ -x $T ]] || lib_fail "$T not built"

# "TCP 10.0.0.1:80 rr" and "TCP 10.0.0.1:80 rr -> 10.50.0.2:8080 Masq 7", from ipvsadm -Ln.
ipvsadm_table() {
	ipvsadm -Ln | awk '
		/^(TCP|UDP|FWM|SCTP) / { svc = $1 " " $2; for (i = 3; i <= NF; i++) svc = svc " " $i; print svc; next }
		/^  -> [0-9[]/ { print svc " -> " $2 " " $3 " " $4 }' | sort
}
tool_table() {
	"$T" dump | awk '/ -> / { sub(/ [0-9]+ [0-9]+ active .*/, ""); } { print }' | sort
}
# tool_says EXPECTED WHAT CMD...: the tool's stdout, its first line, is EXPECTED.
tool_says() {
	local expected=$1 what=$2 out
	shift 2
	out=$("$T" "$@" 2>/dev/null | head -n 1)
	lib_assert_eq "$expected" "$out" "$what"
}

lib_modules ip_vs ip_vs_rr ip_vs_wlc dummy
lib_dest_net

lib_log "info"
info=$("$T" info) || lib_fail "ipvs_tool info"
size=$(ipvsadm -Ln | sed -n 's/.*version \([0-9.]*\) (size=\([0-9]*\)).*/version \1 conn_tab_size \2/p')
lib_assert_eq "$size" "$info" "info matches ipvsadm's version and table size"

lib_log "services"
tool_says ok "add TCP IPv4 service" service add tcp:10.0.0.1:80 -s rr
tool_says ok "add UDP IPv4 service" service add udp:10.0.0.1:53 -s wlc
tool_says ok "add TCP IPv6 service" service add tcp:[fd00::1]:443 -s rr
tool_says ok "add UDP IPv6 service" service add udp:[fd00::1]:53
tool_says ok "add persistent service" service add tcp:10.0.0.2:443 -s wlc -p 300
tool_says ok "add fwmark service" service add fwm:7 -s rr
tool_says exists "add of an existing service reports exists" service add tcp:10.0.0.1:80 -s rr
out=$("$T" service add tcp:10.0.0.3:80 -s nosuch 2>&1)
lib_assert_contains "$out" "add service TCP 10.0.0.3:80: No such file or directory" \
	"an unknown scheduler fails with the service named"
lib_assert_eq 6 "$(ipvsadm -Ln | grep -cE '^(TCP|UDP|FWM) ')" "ipvsadm sees six services"
lib_assert_contains "$(lib_ipvsadm -Ln)" "UDP [fd00::1]:53 wlc" "an unnamed scheduler is wlc"
lib_assert_contains "$(lib_ipvsadm -Ln)" "TCP 10.0.0.2:443 wlc persistent 300" "persistence lands"

lib_log "destinations"
tool_says ok "add masq dest" dest add tcp:10.0.0.1:80 10.50.0.2:8080 -w 3 -f masq
tool_says ok "add droute dest" dest add tcp:10.0.0.1:80 10.50.0.3:80 -w 2 -f droute
tool_says ok "add tunnel dest" dest add tcp:10.0.0.1:80 10.50.0.4:80 -w 1 -f tunnel
tool_says ok "add IPv6 dest with thresholds" dest add udp:[fd00::1]:53 [fd00:50::2]:53 -w 5 -x 100 -y 10
tool_says ok "add UDP dest" dest add udp:10.0.0.1:53 10.50.0.5:53 -w 1
tool_says ok "add fwmark dest" dest add fwm:7 10.50.0.6:0 -w 1 -f droute
tool_says exists "add of an existing dest reports exists" dest add tcp:10.0.0.1:80 10.50.0.4:80 -f tunnel
witness=$(lib_ipvsadm -Ln -t 10.0.0.1:80)
lib_assert_contains "$witness" "-> 10.50.0.2:8080 Masq 3 " "masq dest in ipvsadm"
lib_assert_contains "$witness" "-> 10.50.0.3:80 Route 2 " "droute dest in ipvsadm"
lib_assert_contains "$witness" "-> 10.50.0.4:80 Tunnel 1 " "tunnel dest in ipvsadm"
lib_assert_contains "$(lib_ipvsadm -Ln --thresholds -u '[fd00::1]:53')" "-> [fd00:50::2]:53 100 10 " \
	"thresholds in ipvsadm"

tool_says ok "edit weight" dest edit tcp:10.0.0.1:80 10.50.0.2:8080 -w 7 -f masq
lib_assert_contains "$(lib_ipvsadm -Ln -t 10.0.0.1:80)" "-> 10.50.0.2:8080 Masq 7 " \
	"edited weight in ipvsadm"
tool_says ok "weight 0" dest edit tcp:10.0.0.1:80 10.50.0.3:80 -w 0 -f droute
lib_assert_contains "$(lib_ipvsadm -Ln -t 10.0.0.1:80)" "-> 10.50.0.3:80 Route 0 " \
	"weight 0 in ipvsadm"
out=$("$T" dest edit tcp:10.0.0.1:80 10.50.0.99:80 -w 1 2>&1)
lib_assert_contains "$out" "edit dest 10.50.0.99:80 of TCP 10.0.0.1:80: No such file or directory" \
	"edit of a missing dest fails, naming it"

lib_log "dump"
diff <(tool_table) <(ipvsadm_table) || lib_fail "dump differs from ipvsadm -Ln"
echo "ok: dump equals ipvsadm -Ln ($(tool_table | wc -l) lines)"
lib_assert_eq 3 "$("$T" dests tcp:10.0.0.1:80 | wc -l)" "dests of one service"
out=$("$T" dests tcp:10.9.9.9:80 2>&1) || lib_fail "dests of a missing service: $out"
lib_assert_eq "" "$out" "a missing service has no dests (the kernel answers an empty dump)"

lib_log "deletes"
tool_says ok "delete dest" dest del tcp:10.0.0.1:80 10.50.0.4:80
lib_assert_eq "" "$(ipvsadm -Ln -t 10.0.0.1:80 | grep 10.50.0.4)" "deleted dest gone from ipvsadm"
tool_says absent "delete of a missing dest reports absent" dest del tcp:10.0.0.1:80 10.50.0.4:80
tool_says absent "delete of a dest of a missing service reports absent" dest del tcp:10.9.9.9:80 10.50.0.4:80
tool_says ok "delete service" service del udp:[fd00::1]:53
tool_says absent "delete of a missing service reports absent" service del udp:[fd00::1]:53
lib_assert_eq "" "$(ipvsadm -Ln | grep 'fd00::1]:53')" "deleted service gone from ipvsadm"
out=$("$T" dest add tcp:10.9.9.9:80 10.50.0.2:80 2>&1)
rc=$?
lib_assert_eq 1 "$rc" "add dest to a missing service fails"
lib_assert_contains "$out" "add dest 10.50.0.2:80 to TCP 10.9.9.9:80: No such process (no such service)" \
	"and says which"

lib_log "timeouts"
tool_says ok "set timeouts" timeouts set 100 20 30
lib_assert_eq "Timeout (tcp tcpfin udp): 100 20 30" "$(ipvsadm -L --timeout)" "ipvsadm sees the timeouts"
lib_assert_eq "100 20 30" "$("$T" timeouts get)" "get returns them"
tool_says ok "0 leaves a timeout alone" timeouts set 0 25 0
lib_assert_eq "100 25 30" "$("$T" timeouts get)" "only tcpfin changed"

lib_log "batch of 1000 services x 10 destinations"
out=$("$T" batch add 1000 10) || lib_fail "batch add: $out"
lib_assert_contains "$out" "ok 11000 exists 0 absent 0 failed 0" "11000 operations acked"
lib_assert_eq 1000 "$(ipvsadm -Ln | grep -c '^TCP  10\.100\.')" "ipvsadm counts 1000 services"
lib_assert_eq 10000 "$(ipvsadm -Ln | awk '/^[A-Z]/ { ours = ($2 ~ /^10\.100\./) } /^  -> / && ours { n++ } END { print n + 0 }')" \
	"ipvsadm counts 10000 destinations"
diff <(tool_table) <(ipvsadm_table) >/dev/null || lib_fail "dump of 11000 entries differs from ipvsadm -Ln"
echo "ok: dump equals ipvsadm -Ln ($(tool_table | wc -l) lines)"
out=$("$T" batch add 1000 10) || lib_fail "batch add again: $out"
lib_assert_contains "$out" "ok 0 exists 11000 absent 0 failed 0" "the same batch again is all exists"
out=$("$T" batch del 1000 0 --bad)
rc=$?
lib_assert_eq 3 "$rc" "a batch with one bad operation reports a failure"
lib_assert_contains "$out" "ok 1000 exists 0 absent 0 failed 1" "only the bad operation failed"
lib_assert_contains "$out" "failed #1000: add dest 10.50.0.2:8080 to TCP" "and it is named"
lib_assert_eq 0 "$(ipvsadm -Ln | grep -c '^TCP  10\.100\.')" "the batch deleted the 1000 services"
lib_assert_eq 5 "$(ipvsadm -Ln | grep -cE '^(TCP|UDP|FWM) ')" "the other services are untouched"
lib_log "traffic through a service the library programmed"
lib_modules veth
lib_backend_netns be1 10.201.0.1/24 10.201.0.2/24
lib_backend_netns be2 10.202.0.1/24 10.202.0.2/24
lib_responder be1 backend-1 8080
lib_responder be2 backend-2 8080
lib_vip vip0 10.10.0.1/32
lib_wait_port be1 10.201.0.2 8080
lib_wait_port be2 10.202.0.2 8080
tool_says ok "add NAT service" service add tcp:10.10.0.1:80 -s rr
tool_says ok "add backend-1" dest add tcp:10.10.0.1:80 10.201.0.2:8080 -f masq -w 1
tool_says ok "add backend-2" dest add tcp:10.10.0.1:80 10.202.0.2:8080 -f masq -w 1
lib_assert_eq "backend-1 backend-2" "$(lib_who_answers http://10.10.0.1/ 6)" "both backends answer"
tool_says ok "drain backend-1" dest edit tcp:10.10.0.1:80 10.201.0.2:8080 -f masq -w 0
lib_assert_eq "backend-2" "$(lib_who_answers http://10.10.0.1/ 6)" "only backend-2 answers"
echo "PASS"
