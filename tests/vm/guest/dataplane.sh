# Guest side of the dataplane scenario: reconcile rounds through dataplane_tool
# (each invocation is a new vipd process that closes without cleanup, i.e. a
# restart), checked with ipvsadm and ip(8), which read the kernel on their own.
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"

T=$VIPD_BUILD_DIR/tests/dataplane_tool
[[ -x $T ]] || lib_fail "$T not built"
W=$(mktemp -d)
STATE=/run/vipd-test/owned.json
dp() {
	"$T" -i vipd0 -s "$STATE" "$@"
}
# ipvsadm with runs of blanks squeezed.
witness() {
	ipvsadm "$@" | tr -s ' '
}
# The VIPs routed as local addresses through vipd0 (vipd binds no address;
# the kernel's own proto kernel route is the link's fe80::).
addrs() {
	{
		ip -4 route show table local type local dev vipd0
		ip -6 route show table local type local dev vipd0
	} | awk '!/proto kernel/ { print $2 }' | sort | tr '\n' ' '
}

lib_modules ip_vs ip_vs_rr ip_vs_wlc dummy
# IPVS takes only destinations it can route to: give them a network.
ip link add dst0 type dummy && ip link set dst0 up
ip addr add 10.50.0.1/16 dev dst0
ip addr add fd00:50::1/64 dev dst0 nodad

cat >"$W/a" <<'T'
svc tcp 11.0.0.1 80 sched rr
dest 10.50.0.2 8080 weight 1
dest 10.50.0.3 8080 weight 2
svc udp 11.0.0.1 53
dest 10.50.0.2 53
svc tcp fd00::11 443
dest fd00:50::2 8443 weight 3
svc udp fd00::11 53
dest fd00:50::3 53
svc tcp 11.0.0.2 80 fwd droute
dest 10.50.0.4 80
T
sed 's/^dest 10.50.0.3 8080 weight 2/dest 10.50.0.3 8080 weight 5/' "$W/a" >"$W/b"
sed '/^svc tcp 11.0.0.2 80/,$d' "$W/b" >"$W/c"
grep -v -e '^svc .* fd00::11' -e '^dest fd00:50' "$W/c" >"$W/d"

lib_log "from empty"
out=$(dp -t 900,120,300 apply "$W/a") || lib_fail "apply a: $out"
echo "$out"
lib_assert_contains "$out" "round 1 ops 11 failed 0" "5 service adds and 6 dest adds"
wit=$(witness -Ln)
lib_assert_contains "$wit" "TCP 11.0.0.1:80 rr" "TCP IPv4 service with its scheduler"
lib_assert_contains "$wit" "-> 10.50.0.3:8080 Masq 2 " "masq dest and its weight"
lib_assert_contains "$wit" "UDP 11.0.0.1:53 wlc" "UDP IPv4 service, default scheduler"
lib_assert_contains "$wit" "TCP [fd00::11]:443 wlc" "TCP IPv6 service"
lib_assert_contains "$wit" "-> [fd00:50::2]:8443 Masq 3 " "IPv6 dest"
lib_assert_contains "$wit" "UDP [fd00::11]:53 wlc" "UDP IPv6 service"
lib_assert_contains "$wit" "-> 10.50.0.4:80 Route 1 " "droute maps to the kernel's DROUTE"
lib_assert_eq "11.0.0.1 11.0.0.2 fd00::11 " "$(addrs)" "VIP routes through vipd0"
lib_assert_eq "" "$(ip -o addr show dev vipd0 scope global)" "no address on vipd0: VIPs are routes"
lib_assert_contains "$(ip -4 route show table local 11.0.0.1)" "local 11.0.0.1 dev vipd0 proto static scope host src 10.50.0.1" \
	"IPv4 VIP route: type local, src the node's own address"
lib_assert_contains "$(ip -6 route show table local fd00::11)" "local fd00::11 dev vipd0 proto static" \
	"IPv6 VIP route: type local"
lib_assert_eq "" "$(ip -o addr show dev vipd0 | grep tentative)" "IPv6 VIP not tentative (NODAD)"
lib_assert_eq "dummy" "$(ip -d -o link show vipd0 | grep -o 'dummy' | head -n1)" "vipd0 is a dummy"
lib_assert_contains "$(ip -o link show vipd0)" ",UP" "vipd0 is up"
lib_assert_eq "Timeout (tcp tcpfin udp): 900 120 300" "$(ipvsadm -L --timeout)" "timeouts set"
for s in net.ipv4.vs.conntrack net.ipv4.vs.expire_nodest_conn \
	net.ipv4.vs.expire_quiescent_template net.ipv4.ip_forward; do
	lib_assert_eq 1 "$(sysctl -n $s)" "sysctl $s"
done
lib_assert_contains "$(cat $STATE)" '"address":"fd00::11"' "owned set persisted"

lib_log "restart with the same table: adoption"
out=$(dp apply "$W/a") || lib_fail "apply a again: $out"
lib_assert_eq "round 1 ops 0 failed 0" "$out" "zero operations after a restart"

lib_log "one weight change"
out=$(dp apply "$W/b") || lib_fail "apply b: $out"
lib_assert_eq "op edit dest TCP 11.0.0.1:80 -> 10.50.0.3:8080 weight 5 masq ok
round 1 ops 1 failed 0" "$out" "exactly one edit"
lib_assert_contains "$(witness -Ln -t 11.0.0.1:80)" "-> 10.50.0.3:8080 Masq 5 " "ipvsadm sees weight 5"

lib_log "a service vipd does not own"
ipvsadm -A -t 11.0.0.9:80 -s rr || lib_fail "ipvsadm -A"
ipvsadm -a -t 11.0.0.9:80 -r 10.50.0.9:80 -m -w 4 || lib_fail "ipvsadm -a"
ipvsadm -A -t 11.0.0.2:8080 -s rr || lib_fail "ipvsadm -A on a vipd VIP address"
out=$(dp apply "$W/b" "$W/b") || lib_fail "apply b twice: $out"
lib_assert_eq "round 1 ops 0 failed 0
round 2 ops 0 failed 0" "$out" "foreign services cause no operation"

lib_log "remove a VIP"
out=$(dp apply "$W/c") || lib_fail "apply c: $out"
lib_assert_contains "$out" "op del service TCP 11.0.0.2:80 ok" "its service is deleted"
lib_assert_contains "$out" "round 1 ops 1 failed 0" "one operation"
lib_assert_eq "" "$(witness -Ln | grep '11.0.0.2:80 ')" "the VIP's service is gone"
lib_assert_eq "11.0.0.1 fd00::11 " "$(addrs)" "the VIP's address is gone"
wit=$(witness -Ln)
lib_assert_contains "$wit" "TCP 11.0.0.9:80 rr" "the foreign service survives"
lib_assert_contains "$wit" "-> 10.50.0.9:80 Masq 4 " "with its dest"
lib_assert_contains "$wit" "TCP 11.0.0.2:8080 rr" "a foreign service on the removed VIP's address survives"

lib_log "a VIP removed while vipd was down"
lib_assert_contains "$(dp owned)" "TCP [fd00::11]:443" "the owned set survives a restart"
out=$(dp apply "$W/d") || lib_fail "apply d: $out"
lib_assert_contains "$out" "op del service TCP [fd00::11]:443" "its TCP service is deleted"
lib_assert_contains "$out" "op del service UDP [fd00::11]:53" "its UDP service is deleted"
lib_assert_contains "$out" "round 1 ops 2 failed 0" "two operations"
lib_assert_eq "" "$(witness -Ln | grep 'fd00::11')" "ipvsadm has no fd00::11 service"
lib_assert_eq "11.0.0.1 " "$(addrs)" "its address is gone"
owned=$(dp owned)
lib_assert_eq "UDP 11.0.0.1:53
TCP 11.0.0.1:80" "$owned" "the owned set dropped the deleted services"

lib_log "drift made by hand is repaired"
ipvsadm -e -t 11.0.0.1:80 -r 10.50.0.2:8080 -m -w 9 || lib_fail "ipvsadm -e"
ipvsadm -d -t 11.0.0.1:80 -r 10.50.0.3:8080 || lib_fail "ipvsadm -d"
ipvsadm -E -t 11.0.0.1:80 -s wlc || lib_fail "ipvsadm -E"
ip route del local 11.0.0.1 dev vipd0 table local || lib_fail "ip route del"
ip route add local 11.0.0.77 dev vipd0 table local || lib_fail "ip route add"
out=$(dp apply "$W/d") || lib_fail "apply d after drift: $out"
echo "$out"
lib_assert_contains "$out" "op edit service TCP 11.0.0.1:80" "scheduler drift repaired"
lib_assert_contains "$out" "op add dest TCP 11.0.0.1:80 -> 10.50.0.3:8080 weight 5 masq ok" \
	"a deleted dest is added back"
lib_assert_contains "$out" "op edit dest TCP 11.0.0.1:80 -> 10.50.0.2:8080 weight 1 masq ok" \
	"a changed weight is set back"
lib_assert_contains "$out" "round 1 ops 3 failed 0" "three operations"
wit=$(witness -Ln -t 11.0.0.1:80)
lib_assert_contains "$wit" "TCP 11.0.0.1:80 rr" "ipvsadm: scheduler rr again"
lib_assert_contains "$wit" "-> 10.50.0.2:8080 Masq 1 " "ipvsadm: weight 1 again"
lib_assert_contains "$wit" "-> 10.50.0.3:8080 Masq 5 " "ipvsadm: dest back"
lib_assert_eq "11.0.0.1 " "$(addrs)" "a lost VIP route is added again, a stray one removed"

lib_log "an older vipd's VIP address on vipd0 becomes a route"
ip route del local 11.0.0.1 dev vipd0 table local || lib_fail "ip route del"
ip addr add 11.0.0.1/32 dev vipd0 || lib_fail "ip addr add (as an older vipd did)"
out=$(dp apply "$W/d") || lib_fail "apply d over an old address: $out"
lib_assert_eq "round 1 ops 0 failed 0" "$out" "the IPVS table is untouched"
lib_assert_eq "" "$(ip -o addr show dev vipd0 scope global)" "the old address is removed"
lib_assert_contains "$(ip -4 route show table local 11.0.0.1)" "local 11.0.0.1 dev vipd0 proto static scope host src 10.50.0.1" \
	"the VIP is routed with the node's address as src"

lib_log "quick rounds between resyncs"
sed 's/^dest 10.50.0.2 8080 weight 1/dest 10.50.0.2 8080 weight 6/' "$W/d" >"$W/d6"
out=$(dp -q apply "$W/d" "$W/d6" "$W/d") || lib_fail "quick apply: $out"
lib_assert_eq "round 1 ops 0 failed 0
op edit dest TCP 11.0.0.1:80 -> 10.50.0.2:8080 weight 6 masq ok
round 2 ops 1 failed 0
op edit dest TCP 11.0.0.1:80 -> 10.50.0.2:8080 weight 1 masq ok
round 3 ops 1 failed 0" "$out" "a quick round is the one edit, and back"
lib_assert_contains "$(witness -Ln -t 11.0.0.1:80)" "-> 10.50.0.2:8080 Masq 1 " "ipvsadm agrees"

lib_log "a kernel refusal is reported and the round fails, the rest applies"
cat "$W/d" >"$W/e"
printf 'svc tcp 11.0.0.3 80 sched nosuch\ndest 10.50.0.5 80\nsvc tcp 11.0.0.4 80\ndest 10.50.0.6 80\n' >>"$W/e"
out=$(dp apply "$W/e")
rc=$?
echo "$out"
lib_assert_eq 1 "$rc" "non-zero exit"
lib_assert_contains "$out" "op add service TCP 11.0.0.3:80" "the refused add is reported"
lib_assert_contains "$out" "apply failed: " "the round says it failed"
lib_assert_contains "$(witness -Ln)" "-> 10.50.0.6:80 Masq 1 " "the other new VIP is programmed"
lib_assert_eq "11.0.0.1 11.0.0.4 " "$(addrs)" "only the programmed VIP's address is bound"

lib_log "rounds driven by the loop (-L: dataplane_request, the daemon's path)"
out=$(dp apply "$W/d") || lib_fail "apply d before the loop rounds: $out"
out=$(dp -L apply "$W/d" "$W/d6" "$W/d") || lib_fail "loop apply: $out"
echo "$out"
lib_assert_eq "round 1 ops 0 failed 0
op edit dest TCP 11.0.0.1:80 -> 10.50.0.2:8080 weight 6 masq ok
round 2 ops 1 failed 0
op edit dest TCP 11.0.0.1:80 -> 10.50.0.2:8080 weight 1 masq ok
round 3 ops 1 failed 0" "$(grep -v '^loop ' <<<"$out")" "the same operations as the synchronous rounds"
ipvsadm -e -t 11.0.0.1:80 -r 10.50.0.2:8080 -m -w 9 || lib_fail "ipvsadm -e"
ipvsadm -d -t 11.0.0.1:80 -r 10.50.0.3:8080 || lib_fail "ipvsadm -d"
out=$(dp -L apply "$W/d") || lib_fail "loop apply after drift: $out"
lib_assert_contains "$out" "op add dest TCP 11.0.0.1:80 -> 10.50.0.3:8080 weight 5 masq ok" \
	"loop round: a deleted dest is added back"
lib_assert_contains "$out" "op edit dest TCP 11.0.0.1:80 -> 10.50.0.2:8080 weight 1 masq ok" \
	"loop round: a changed weight is set back"
lib_assert_contains "$out" "round 1 ops 2 failed 0" "loop round: two operations"
sed 's/^dest 10.50.0.2 8080 weight 1/dest 10.50.0.2 8080 weight 7/' "$W/d" >"$W/d7"
out=$(dp -L -C apply "$W/d" "$W/d7" "$W/d6") || lib_fail "coalesced loop apply: $out"
echo "$out"
lib_assert_contains "$out" "rounds 2" "three requests at once: the first round and one more"
lib_assert_eq "" "$(grep 'weight 7' <<<"$out")" "the request replaced by a later one never runs"
lib_assert_contains "$out" "op edit dest TCP 11.0.0.1:80 -> 10.50.0.2:8080 weight 6 masq ok" \
	"the coalesced round goes to the latest table"
lib_assert_contains "$(witness -Ln -t 11.0.0.1:80)" "-> 10.50.0.2:8080 Masq 6 " "ipvsadm agrees"
out=$(dp -L apply "$W/e")
rc=$?
echo "$out"
lib_assert_eq 1 "$rc" "loop round with a refusal: non-zero exit"
lib_assert_contains "$out" "apply failed: 2 IPVS operations still failing after 3 plans" \
	"re-planned from fresh reads, then failed"
lib_assert_contains "$(witness -Ln)" "-> 10.50.0.6:80 Masq 1 " "the other new VIP is programmed"
lib_assert_eq "11.0.0.1 11.0.0.4 " "$(addrs)" "loop round: only the programmed VIP's address is bound"

# Functional only: tests assert no timing. Speed (vs ipvsadm -R/-Sn) is reported by
# bench/ipvs/run.sh.
lib_log "1000 services x 10 dests in a fresh namespace"
ip netns add bench || lib_fail "netns bench"
ip -n bench link set lo up
ip -n bench link add d0 type dummy && ip -n bench link set d0 up
ip -n bench addr add 10.50.0.1/16 dev d0
ip netns exec bench "$T" bench 1000 10 | tee "$W/bench" || lib_fail "bench"
lib_assert_contains "$(cat "$W/bench")" "resync unchanged: " "bench ran"
lib_assert_contains "$(cat "$W/bench")" ", 11000 ops, 0 failed" "11000 operations from empty"
lib_assert_contains "$(cat "$W/bench")" "one weight change: " "weight change timed"
grep -q "one weight change: .*, 1 ops, 0 failed" "$W/bench" || lib_fail "weight change is one op"
[[ $(grep -c "one weight change, quick: .*, 1 ops, 0 failed" "$W/bench") == 3 ]] ||
	lib_fail "quick weight changes are one op each"
echo "ok: quick weight changes are one op each"
# The same table through the loop: a 1 ms timer keeps firing while the
# whole-table rounds run (the bulk load, then a resync that reads 11000
# objects back); a round that held the loop would show 0 ticks.
awk 'BEGIN { for (i = 1; i <= 1000; i++) { printf "svc tcp 10.100.%d.%d 80\n", int(i / 256), i % 256
	for (j = 0; j < 10; j++) printf "dest 10.50.0.%d 8080\n", j + 2 } }' >"$W/big"
# A fresh namespace: the one above keeps the bench's deleted destinations in
# IPVS's trash for a while, which slows every add that follows.
ip netns add loop || lib_fail "netns loop"
ip -n loop link set lo up
ip -n loop link add d0 type dummy && ip -n loop link set d0 up
ip -n loop addr add 10.50.0.1/16 dev d0
ip netns exec loop "$T" -L -Q -T apply "$W/big" "$W/big" | tee "$W/loop" || lib_fail "loop rounds"
lib_assert_contains "$(cat "$W/loop")" "round 1 ops 11000 failed 0" "loop: bulk load of 11000 operations"
lib_assert_contains "$(cat "$W/loop")" "round 2 ops 0 failed 0" "loop: the resync finds nothing to do"
for r in 1 2; do
	ticks=$(sed -n "s/^loop round $r ticks //p" "$W/loop")
	[[ ${ticks:-0} -gt 0 ]] || lib_fail "loop round $r: the timer never fired while it ran"
	echo "ok: loop round $r: the timer fired $ticks times while it ran"
done
echo "PASS"
