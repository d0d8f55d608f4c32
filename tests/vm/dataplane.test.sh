# src/lb/dataplane*.c and vipif.c against a real IPVS in the VM (ipvsadm and
# ip(8) as witnesses), and its no-IPVS message on this host.
set -u
here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"

tool=$VIPD_BUILD_DIR/tests/dataplane_tool
[[ -x $tool ]] || lib_fail "$tool not built"

lib_log "host"
if out=$("$tool" -i vipdtest0 observe 2>&1); then
	echo "skip: this host has IPVS; the no-IPVS message is not checked"
else
	lib_assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "no IPVS: one line"
	lib_assert_contains "$out" "has no IPVS" "no IPVS: says so"
	lib_assert_contains "$out" "modprobe ip_vs" "no IPVS: says how to load it"
	lib_assert_contains "$out" "CONFIG_IP_VS" "no IPVS: says what kernel it needs"
	ip link show vipdtest0 >/dev/null 2>&1 && lib_fail "no IPVS: an interface was created"
	echo "ok: no IPVS: nothing created on the host"
fi

lib_log "VM"
lib_run_vm "$here/guest/dataplane.sh"
