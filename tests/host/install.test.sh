#!/usr/bin/env bash
# cmake --install as a packager runs it (DESTDIR, --prefix /usr): the expected
# files and nothing else; a unit systemd-analyze verify accepts, naming the
# installed binary and the man pages it installed; the example config valid
# for vipd and never overwriting an operator's; the logrotate snippet
# reopening by signal; man pages that render without warnings and name every
# option and command --help does.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"
root=$TMP/root

# Always under DESTDIR: this test installs nothing on the host.
install_into() { # DESTDIR
  [ -n "$1" ] || { fail "install without DESTDIR refused"; finish; }
  DESTDIR=$1 cmake --install "$VIPD_BUILD_DIR" --prefix /usr >"$TMP/install.out" 2>&1
}
install_into "$root"; rc=$?
expect_eq "$rc" 0 "cmake --install with DESTDIR: exit status"
expect_eq "$(cd "$root" && find . -mindepth 1 \( -type f -o -type d -empty \) | sort)" "./etc/logrotate.d/vipd
./etc/vipd/apps
./etc/vipd/vipd.json
./etc/vipd/vipd.json.example
./usr/bin/vipctl
./usr/lib/systemd/system/vipd.service
./usr/sbin/vipd
./usr/share/man/man8/vipctl.8
./usr/share/man/man8/vipd.8" "installed files"
expect_eq "$("$root/usr/sbin/vipd" --version)" "$("$VIPD_BUILD_DIR/vipd" --version)" "vipd installed"
expect_eq "$("$root/usr/bin/vipctl" --version)" "$("$VIPD_BUILD_DIR/vipctl" --version)" "vipctl installed"

# The unit: what the service needs, naming the installed binary.
unit=$root/usr/lib/systemd/system/vipd.service
for line in "Type=notify" "ExecStart=/usr/sbin/vipd" "ExecStartPre=/usr/sbin/vipd --check-config" \
  "ExecReload=/bin/kill -HUP \$MAINPID" "Restart=on-failure" "ProtectSystem=strict" \
  "ReadWritePaths=/run/vipd /var/log/vipd" "RuntimeDirectoryPreserve=yes" \
  "CapabilityBoundingSet=CAP_NET_ADMIN CAP_SETUID CAP_SETGID CAP_KILL"; do
  grep -qxF "$line" "$unit" || fail "vipd.service: no line [$line]"
done
# systemd-analyze checks that ExecStart is executable and that each man: page
# of Documentation= exists: verify a copy whose paths point into DESTDIR, with
# the installed man pages on MANPATH.
mkdir -p "$TMP/verify"
sed "s|=/usr/sbin/vipd|=$root/usr/sbin/vipd|" "$unit" >"$TMP/verify/vipd.service"
MANPATH=$root/usr/share/man systemd-analyze verify "$TMP/verify/vipd.service" >"$TMP/verify.out" 2>&1
rc=$?
expect_eq "$rc" 0 "systemd-analyze verify: exit status"
expect_eq "$(cat "$TMP/verify.out")" "" "systemd-analyze verify: no warning"
# The same verification refuses a unit whose binary is not where it says.
sed "s|=/usr/sbin/vipd|=$root/usr/sbin/nothing|" "$unit" >"$TMP/verify/vipd.service"
if systemd-analyze verify --man=no "$TMP/verify/vipd.service" >/dev/null 2>&1; then
  fail "systemd-analyze verify accepted a missing ExecStart binary"
fi

# The example config is a valid vipd config (paths of this test on top).
mkdir -p "$TMP/apps"
"$root/usr/sbin/vipd" -c "$root/etc/vipd/vipd.json" --apps "$TMP/apps" --audit "$TMP/audit.log" \
  --check-config >"$TMP/check.out" 2>&1; rc=$?
expect_eq "$rc" 0 "example config: vipd --check-config"
expect_eq "$(cmp "$root/etc/vipd/vipd.json" "$VIPD_SOURCE_DIR/dist/vipd.json" && echo same)" same "vipd.json is the example"
# An operator's vipd.json survives a reinstall; the example is refreshed.
echo '{"log_level": "debug"}' >"$root/etc/vipd/vipd.json"
echo stale >"$root/etc/vipd/vipd.json.example"
install_into "$root"
expect_eq "$(cat "$root/etc/vipd/vipd.json")" '{"log_level": "debug"}' "reinstall keeps vipd.json"
expect_eq "$(cmp "$root/etc/vipd/vipd.json.example" "$VIPD_SOURCE_DIR/dist/vipd.json" && echo same)" same "reinstall refreshes the example"
expect_contains "$(cat "$TMP/install.out")" "Kept: $root/etc/vipd/vipd.json (the new one is vipd.json.example)"

# logrotate: the audit log of the example config, reopened by SIGUSR1 (no
# copytruncate, which loses the lines written between copy and truncate).
snippet=$(cat "$root/etc/logrotate.d/vipd")
expect_contains "$snippet" "/var/log/vipd/audit.log {"
expect_contains "$snippet" "systemctl kill --kill-whom=main --signal=SIGUSR1 vipd.service"
expect_eq "$(grep -c '^[^#]*copytruncate' "$root/etc/logrotate.d/vipd")" 0 "logrotate: no copytruncate"
expect_eq "$(grep -o '"audit_log": "[^"]*"' "$root/etc/vipd/vipd.json.example")" '"audit_log": "/var/log/vipd/audit.log"' "the config's audit log is the rotated one"

# Man pages: render without warnings, and name every option of --help and
# every vipctl command.
for bin in sbin/vipd bin/vipctl; do
  page=${bin#*/}
  text=$(MANWIDTH=200 man --warnings -l "$root/usr/share/man/man8/$page.8" 2>"$TMP/man.err")
  expect_eq "$(cat "$TMP/man.err")" "" "man $page: no warning"
  opts=$("$root/usr/$bin" --help | grep -oE -- '--[a-z-]+' | sort -u)
  [ "$(echo "$opts" | wc -w)" -ge 3 ] || fail "$page --help: options not found [$opts]"
  for opt in $opts; do
    case "$text" in *"$opt"*) ;; *) fail "man $page does not name $opt" ;; esac
  done
done
for cmd in $("$VIPD_BUILD_DIR/vipctl" --help | awk '/^commands:/ {on = 1; next} on {print $1}'); do
  case "$(MANWIDTH=200 man -l "$root/usr/share/man/man8/vipctl.8" 2>/dev/null)" in
    *"       $cmd "*) ;; *) fail "man vipctl does not describe the command $cmd" ;;
  esac
done
finish
