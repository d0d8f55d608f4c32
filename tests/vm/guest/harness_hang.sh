# Guest side of harness: a scenario that leaves a background job behind, then fails
# (lib.sh's cleanup must not wait for it) or hangs (the guest timeout must stop it).
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"
sleep 1000 &
case $1 in
fail) lib_fail "deliberately" ;;
hang) wait ;;
esac
