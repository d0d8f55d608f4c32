#!/usr/bin/env bash
# cpack -G DEB: a Debian package with what cmake --install puts (prefix /usr),
# the /etc files as dpkg conffiles, shared-library dependencies, and a unit
# naming /usr/sbin/vipd. Built into this test's directory; nothing installed.
set -u
. "$VIPD_SOURCE_DIR/tests/cli/lib.sh"

cpack -G DEB -B "$TMP/pkg" --config "$VIPD_BUILD_DIR/CPackConfig.cmake" >"$TMP/cpack.out" 2>&1; rc=$?
expect_eq "$rc" 0 "cpack: exit status"
deb=$(ls "$TMP"/pkg/vipd_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat "$TMP/cpack.out"; fail "no .deb"; finish; }
expect_eq "$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sort)" "./etc/logrotate.d/vipd
./etc/vipd/vipd.json
./etc/vipd/vipd.json.example
./usr/bin/vipctl
./usr/lib/systemd/system/vipd.service
./usr/sbin/vipd
./usr/share/man/man8/vipctl.8
./usr/share/man/man8/vipd.8" "package files"
expect_eq "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" "/etc/vipd/vipd.json
/etc/vipd/vipd.json.example
/etc/logrotate.d/vipd" "conffiles"
expect_eq "$(dpkg-deb -f "$deb" Package Section)" "Package: vipd
Section: net" "control fields"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libev4 libjansson4 libnl-genl-3-200 libcurl4 libpcre2-8-0; do
  expect_contains "$depends" "$lib"
done
unit=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/vipd.service)
expect_contains "$unit" "ExecStart=/usr/sbin/vipd"$'\n'
expect_eq "$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/vipd/vipd.json | cmp - "$VIPD_SOURCE_DIR/dist/vipd.json" && echo same)" same "vipd.json is the example"
finish
