# Guest side of kstats.test.sh.
set -u
. "$(dirname "$(readlink -f "$0")")/lib_e2e.sh"

e2e_two_backends
# c: behind a VIP of its own with no check (always in rotation); later its
# namespace loses its route back, so its SYN-ACKs never leave.
e2e_backend bc c 10.61.3.1 10.61.3.2
lib_wait_port bc 10.61.3.2 8080

mkdir -p /tmp/e2e/apps
TA=$(e2e_task web.a 10.61.1.2)
TB=$(e2e_task web.b 10.61.2.2)
e2e_http_app /web 10.200.0.10:80 1 "$TA, $TB" >/tmp/e2e/apps/web.json
cat >/tmp/e2e/apps/syn.json <<JSON
{"id": "/syn", "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "10.200.0.20:80"}}],
 "tasks": [$(e2e_task syn.c 10.61.3.2)]}
JSON
cat >/tmp/e2e/vipd.json <<'JSON'
{"apps": "/tmp/e2e/apps", "audit_log": "/tmp/e2e/audit.log", "reload_seconds": 1,
 "api": {"listen": "127.0.0.1:9180"},
 "lb": {"interface": "vipd0", "resync_seconds": 2}}
JSON
SVC=10.200.0.10:80
e2e_vipd /tmp/e2e/vipd.json
API=http://127.0.0.1:9180

get() { curl -sS --max-time 5 "$API$1"; }
# vips EXPR [VIP]: a python expression over the /v1/vips document `d` and the VIP `v`.
vips() {
	get /v1/vips | python3 -c "import json,sys; d=json.load(sys.stdin); v=[x for x in d['vips'] if x['vip'] == '${2:-$SVC}'][0]; print($1)"
}
# The service's kernel counter NAME, and backend ADDR's.
svc_k() { vips "v['kernel']['$1']"; }
dest_k() { vips "[b['kernel']['$2'] for b in v['backends'] if b['address'] == '$1'][0]"; }
metric() { # SERIES: its value on /metrics
	get /metrics | awk -v s="$1" '$1 == s { print $2 }'
}
svc_k_is() { [[ $(svc_k "$1") == "$2" ]]; }
k_at_least() { # EXPR MIN
	local got
	got=$(vips "$1") && [[ $got -ge $2 ]]
}

lib_log "both in rotation; the kernel's counters show up within one read"
e2e_wait_for "a in rotation" 10 e2e_weight_is $SVC 10.61.1.2:8080 1
e2e_wait_for "b in rotation" 10 e2e_weight_is $SVC 10.61.2.2:8080 1
e2e_wait_for "counters of both backends in /v1/vips" 12 k_at_least \
	"sum('kernel' in b for b in v['backends'])" 2
c0=$(svc_k connections)
a0=$(dest_k 10.61.1.2:8080 connections)
b0=$(dest_k 10.61.2.2:8080 connections)
bytes0=$(svc_k bytes_in)

N=20
lib_log "$N connections through the VIP"
for ((i = 0; i < N; i++)); do
	curl -sS --max-time 5 -o /dev/null http://10.200.0.10/ || lib_fail "curl $i through the VIP"
done
e2e_wait_for "service connections grew by $N" 12 svc_k_is connections $((c0 + N))
a1=$(dest_k 10.61.1.2:8080 connections)
b1=$(dest_k 10.61.2.2:8080 connections)
lib_assert_eq $N $((a1 - a0 + b1 - b0)) "the backends' connections add up to the $N sent"
[[ $((a1 - a0)) -gt 0 && $((b1 - b0)) -gt 0 ]] ||
	lib_fail "both backends took connections (a +$((a1 - a0)), b +$((b1 - b0)))"
for f in bytes_in bytes_out packets_in packets_out; do
	[[ $(svc_k $f) -gt 0 ]] || lib_fail "service $f > 0 (got $(svc_k $f))"
done
[[ $(svc_k bytes_in) -gt $bytes0 ]] || lib_fail "service bytes_in grew (from $bytes0 to $(svc_k bytes_in))"
# What the kernel says, as ipvsadm reads it.
lib_assert_eq "$((c0 + N))" "$(ipvsadm -Ln --stats -t $SVC | awk '$1 == "TCP" { print $3 }')" \
	"ipvsadm --stats agrees on the service's connections"

lib_log "/metrics: the same counters, and promtool accepts the exposition"
lib_assert_eq "$((c0 + N))" \
	"$(metric "vipd_ipvs_service_connections_total{vip=\"$SVC\",protocol=\"TCP\"}")" \
	"service connections on /metrics"
lib_assert_eq "$a1" \
	"$(metric "vipd_ipvs_backend_connections_total{vip=\"$SVC\",protocol=\"TCP\",backend=\"10.61.1.2:8080\"}")" \
	"a's connections on /metrics"
lib_assert_eq "$(svc_k bytes_out)" \
	"$(metric "vipd_ipvs_service_bytes_total{vip=\"$SVC\",protocol=\"TCP\",direction=\"out\"}")" \
	"service bytes out on /metrics"
get /metrics >/tmp/e2e/metrics.txt
out=$(promtool check metrics </tmp/e2e/metrics.txt 2>&1)
lib_assert_eq 0 $? "promtool check metrics: $out"

lib_log "an open connection is an active one"
curl -sS --max-time 15 -o /dev/null http://10.200.0.10/slow/10 &
slow=$!
e2e_wait_for "one active connection in the counters" 12 k_at_least \
	"sum(b['kernel']['active_connections'] for b in v['backends'])" 1
lib_assert_contains "$(get /metrics)" "vipd_ipvs_backend_active_connections{vip=\"$SVC\",protocol=\"TCP\",backend=" \
	"active connections on /metrics"
out=$("$VIPD_BUILD_DIR/vipctl" backends --api 127.0.0.1:9180)
lib_assert_contains "$out" " PHASE ACTIVECONN INACTCONN REASON" "vipctl backends: the kernel's columns"
lib_assert_eq 1 "$(echo "$out" | awk '$1 ~ /^web\./ { n += $7 } END { print (n >= 1) }')" \
	"vipctl backends: the open connection in ACTIVECONN"
wait $slow

lib_log "connections that never complete: SYN_RECV per backend, from the kernel's connection table"
lib_assert_eq "0 0" "$(vips "' '.join(str(b['kernel']['syn_recv_connections']) for b in v['backends'])")" \
	"no SYN_RECV connection to a or b (all completed)"
e2e_wait_for "c in the table" 10 e2e_weight_is 10.200.0.20:80 10.61.3.2:8080 1
lib_assert_eq c "$(curl -sS --max-time 5 http://10.200.0.20/)" "c answers through its VIP"
ip -n bc route del default
for ((i = 0; i < 3; i++)); do
	curl -sS --max-time 1 -o /dev/null http://10.200.0.20/ 2>/dev/null && lib_fail "c answered with no route back"
done
syn_c() { vips "v['backends'][0]['kernel']['syn_recv_connections']" 10.200.0.20:80; }
syn_c_is() { [[ $(syn_c) == "$1" ]]; }
e2e_wait_for "c's 3 unanswered connections in SYN_RECV" 12 syn_c_is 3
cat /proc/net/ip_vs_conn
lib_assert_eq 3 \
	"$(metric "vipd_ipvs_backend_syn_recv_connections{vip=\"10.200.0.20:80\",protocol=\"TCP\",backend=\"10.61.3.2:8080\"}")" \
	"c's SYN_RECV connections on /metrics"
lib_assert_eq 3 "$(awk '$4 == "0AC80014" && $8 == "SYN_RECV"' /proc/net/ip_vs_conn | wc -l)" \
	"the kernel's table agrees: 3 SYN_RECV to 10.200.0.20"
get /metrics >/tmp/e2e/metrics.txt
out=$(promtool check metrics </tmp/e2e/metrics.txt 2>&1)
lib_assert_eq 0 $? "promtool check metrics with SYN_RECV samples: $out"

e2e_stop_vipd
lib_assert_eq 0 $? "vipd exits 0 on SIGTERM (the API's IPVS socket and dumps released)"
echo "e2e kstats: all passed"
