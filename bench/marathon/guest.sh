# Guest side of bench/marathon/vm.sh (runs inside tests/vm/vm.sh, as root, on
# Debian's kernel with IPVS): bench.py on the same generated answer, REPS times
# each of
#   1. vipd --no-ipvs: full read and event -> plan, for comparison in the same
#      emulated guest;
#   2. vipd programming the kernel (--ipvs): full read to the table in the
#      kernel, event -> kernel; the first time also CPU at RATE events/s.
# Each run's Markdown between "=== BEGIN name" and "=== END name" lines on the
# console, its key figures on a "BENCHSUM name JSON" line. Fails only when the
# work did not happen (bench.py stops then).
# With DEBUG 1, vipd runs with -v -v and the reasons its patch rounds fell
# back to whole-table rounds are counted (BENCHINFO lines).
#   guest.sh DATA_DIR APPS TASKS_PER_APP SAMPLES RATE DURATION REPS [DEBUG]
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
HERE=$VIPD_SOURCE_DIR/bench/marathon
DATA=$1
APPS=$2
PER_APP=$3
SAMPLES=$4
RATE=$5
DUR=$6
REPS=$7
DEBUG=${8:-0}
VIPD=$VIPD_BUILD_DIR/vipd
STANDIN=$VIPD_SOURCE_DIR/tests/tools/marathon_standin.py
[[ -x $VIPD ]] || lib_fail "$VIPD not built"
[[ -s $DATA/apps.json ]] || lib_fail "no $DATA/apps.json (vm.sh writes it on the host)"

echo "BENCHINFO kernel $(uname -r); $(nproc) vCPU; $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
lib_modules ip_vs ip_vs_wlc dummy
# The agents' addresses (10.1.0.1-10.1.39.250, gen_apps.py) routed to a
# dummy link: IPVS refuses a real server it has no route to. Nothing is ever
# sent to them: no task has a health check and no client uses the VIPs.
ip link add agents type dummy || lib_fail "dummy agents"
ip link set agents up
ip addr add 10.1.255.254/16 dev agents

run() { # NAME BENCH.PY-OPTIONS...
	local name=$1
	shift
	mkdir -p "/tmp/$name"
	python3 "$HERE/bench.py" --vipd "$VIPD" --standin "$STANDIN" --tmp "/tmp/$name" \
		--data "$DATA" --apps "$APPS" --tasks-per-app "$PER_APP" --samples "$SAMPLES" \
		--summary "/tmp/$name.json" --one-cpu $( ((DEBUG)) && echo --vipd-debug) "$@" \
		>"/tmp/$name.md" || {
		tail -n 20 "/tmp/$name/vipd.err"
		lib_fail "bench.py $name failed"
	}
	echo "=== BEGIN $name"
	cat "/tmp/$name.md"
	echo "=== END $name"
	echo "BENCHSUM $name $(cat "/tmp/$name.json")"
	((DEBUG)) && grep -o 'health round: .*; running' "/tmp/$name/vipd.err" | sort | uniq -c |
		sed "s/^/BENCHINFO $name: patch rounds that fell back: /"
	return 0
}

# Interleaved, so that both suffer the same share of the host's load (the
# TCG guest's speed follows it): REPS times --no-ipvs then IPVS, the kernel
# emptied between (a new vipd would adopt the last one's table).
for ((r = 1; r <= REPS; r++)); do
	lib_log "repetition $r: vipd --no-ipvs"
	run "plan-$r" --reads 1 --duration 0
	rm -rf /run/vipd
	lib_log "repetition $r: vipd programming IPVS: $APPS apps x $PER_APP tasks"
	if ((r == 1)); then
		run "ipvs-$r" --ipvs --rate "$RATE" --duration "$DUR"
	else
		run "ipvs-$r" --ipvs --duration 0
	fi
	ipvsadm -C
	ip link del vipd0 2>/dev/null
	rm -rf /run/vipd
done
echo "bench/marathon: done"
