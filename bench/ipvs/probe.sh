# A short guest run for iterating on the daemon's event loop (not part of run.sh): part B
# of guest.sh for one table and one duration, then the daemon's own log and the audit's
# reload, stats and stop lines. With a temporary timing log in the daemon (lines starting
# "PROBE"), those lines are printed too.
#   VIPD_SOURCE_DIR=$PWD VIPD_BUILD_DIR=$PWD/build VIPD_VM_TIMEOUT=400 \
#       tests/vm/vm.sh bench/ipvs/probe.sh [DURATION_S [STATIC_VIPS]]
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
HERE=$VIPD_SOURCE_DIR/bench/ipvs
DUR=${1:-20}
NVIPS=${2:-999}
VIPD=$VIPD_BUILD_DIR/vipd
W=/tmp/probe
mkdir -p "$W"
[[ -x $VIPD ]] || lib_fail "build $VIPD first"
lib_modules ip_vs ip_vs_wlc dummy veth
lib_dest_net dst0
lib_backend_netns lat 10.62.0.1/24 10.62.0.2/24
for ((p = 9000; p < 9050; p++)); do
	mkdir -p "$W/www/$p"
	: >"$W/www/$p/health"
	ip netns exec lat busybox httpd -f -p "10.62.0.2:$p" -h "$W/www/$p" &
	LIB_PIDS+=($!)
done
lib_wait_port lat 10.62.0.2 9049
apps=$W/apps log=$W/audit.log
python3 "$HERE/mkapps.py" "$apps" 50 10.62.0.2 9000 "$NVIPS" 10
cat >"$W/vipd.json" <<JSON
{"apps": "$apps", "audit_log": "$log", "reload_seconds": 5,
 "lb": {"interface": "vipd0", "drain_seconds": 3600, "resync_seconds": 30}}
JSON
"$VIPD" -c "$W/vipd.json" >"$W/vipd.out" 2>&1 &
pid=$!
LIB_PIDS+=($pid)
# The flips of guest.sh: one port every 0.2 s, each port in turn.
i=0
end=$((SECONDS + DUR))
while ((SECONDS < end)); do
	p=$((9000 + (i * 7) % 50))
	if [[ -e $W/www/$p/health ]]; then rm "$W/www/$p/health"; else : >"$W/www/$p/health"; fi
	((i++))
	sleep 0.2
done
kill -USR1 "$pid"
sleep 1
kill -TERM "$pid"
wait "$pid"
echo "probe: $i flips in $DUR s with $NVIPS static VIPs"
grep -v 'app /flip' "$W/vipd.out" | tail -n 200
grep -E '"event":"(reload|stats|stop)"' "$log"
python3 -c 'import json, sys, collections
print("probe: audit events", dict(collections.Counter(json.loads(l)["event"] for l in open(sys.argv[1]) if l.strip())))' "$log"
