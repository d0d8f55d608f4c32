# Guest side of harness: prints what the guest sees, exits with the code asked for.
echo "guest-kernel=$(uname -r)"
echo "guest-args=$*"
echo "guest-build=$VIPD_BUILD_DIR"
echo "guest-lo=$(ip -br link show lo | awk '{print $2}')"
touch /tmp/writable && echo "guest-tmp=writable"
[[ -e $VIPD_SOURCE_DIR/tests/vm/vm.sh ]] && echo "guest-source=visible"
exit "${1:-0}"
