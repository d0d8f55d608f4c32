# vm.sh itself: the guest sees the host tree and our environment, and its exit code comes back.
set -u
here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"

out=$(bash "$here/vm.sh" "$here/guest/harness_check.sh" 3 "two words")
rc=$?
echo "$out"
lib_assert_eq 3 "$rc" "vm.sh returns the guest script's exit code"
lib_assert_contains "$out" "guest-args=3 two words" "arguments keep their words"
lib_assert_contains "$out" "guest-build=$VIPD_BUILD_DIR" "VIPD_BUILD_DIR passed through"
lib_assert_contains "$out" "guest-lo=UNKNOWN" "lo is up in the guest"
lib_assert_contains "$out" "guest-tmp=writable" "/tmp is writable in the guest"
lib_assert_contains "$out" "guest-source=visible" "the source tree is visible in the guest"
lib_assert_contains "$out" "VIPD-VM-EXIT=3" "the exit line is printed"

msg=$(VIPD_VM_KERNEL=0.0.0-none-amd64 bash "$here/vm.sh" "$here/guest/harness_check.sh" 2>&1)
rc=$?
lib_assert_eq 125 "$rc" "no usable kernel fails before booting"
lib_assert_contains "$msg" "apt-get install linux-image-amd64 qemu-system-x86 busybox-static" \
	"no usable kernel says what to install"

out=$(bash "$here/vm.sh" "$here/guest/harness_hang.sh" fail)
rc=$?
lib_assert_eq 1 "$rc" "a failing scenario with a background job still ends"
lib_assert_contains "$out" "FAIL: deliberately" "and says why"

out=$(VIPD_VM_TIMEOUT=60 bash "$here/vm.sh" "$here/guest/harness_hang.sh" hang)
rc=$?
lib_assert_eq 124 "$rc" "a hung scenario is stopped inside the guest"
lib_assert_contains "$out" "stopped at its time limit" "and the console says so"
