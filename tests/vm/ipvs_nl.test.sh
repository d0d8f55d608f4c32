# src/lb/ipvs_*.c against a real IPVS in the VM (ipvsadm as witness), and its
# message on this host, whose kernel has no IPVS.
set -u
here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"

tool=$VIPD_BUILD_DIR/tests/ipvs_tool
[[ -x $tool ]] || lib_fail "$tool not built"

lib_log "host: idempotency rules (the reconciler's, applied to the kernel's raw errno)"
expected="add service: 0=ok EEXIST=exists ENOENT=failed ESRCH=failed EINVAL=failed -EEXIST=exists
edit service: 0=ok EEXIST=failed ENOENT=add ESRCH=add EINVAL=failed -EEXIST=failed
delete service: 0=ok EEXIST=failed ENOENT=absent ESRCH=absent EINVAL=failed -EEXIST=failed
add dest: 0=ok EEXIST=exists ENOENT=failed ESRCH=failed EINVAL=failed -EEXIST=exists
edit dest: 0=ok EEXIST=failed ENOENT=add ESRCH=failed EINVAL=failed -EEXIST=failed
delete dest: 0=ok EEXIST=failed ENOENT=absent ESRCH=absent EINVAL=failed -EEXIST=failed"
lib_assert_eq "$expected" "$("$tool" status-table)" \
	"EEXIST on add is exists, ENOENT/ESRCH on delete is absent, an edit that finds nothing is an add, nothing else is done"

lib_log "host: no IPVS"
if out=$("$tool" info 2>&1); then
	echo "skip: this host has IPVS ($out); the no-IPVS message is not checked"
else
	lib_assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "no IPVS: one line"
	lib_assert_contains "$out" "has no IPVS" "no IPVS: says so"
	lib_assert_contains "$out" "modprobe ip_vs" "no IPVS: says how to load it"
	lib_assert_contains "$out" "apt-get install linux-image-amd64" "no IPVS: says how to get it"
fi

lib_log "VM"
lib_run_vm "$here/guest/ipvs_nl.sh"
