#!/usr/bin/env bash
# The status page at / in headless Chromium (Debian's `chromium`), driven over
# the DevTools protocol (tests/host/page_cdp.py) against the real daemon
# (--no-ipvs) and real backends on loopback: one self-contained page (no
# external assets) shows the VIP and its backends' health, rotation and last
# check output; a backend made to fail shows as down on the same page, never
# reloaded, within one 2 s refresh of vipd's API saying so, with the
# transition in its timeline. Screenshots are written to the test's output
# directory ($VIPD_BUILD_DIR/page-test/) and their paths printed.
set -u
. "$VIPD_SOURCE_DIR/tests/host/api_lib.sh"
command -v chromium >/dev/null || { echo "FAIL: no chromium (scripts/setup.sh installs it)"; exit 1; }
out_dir="$VIPD_BUILD_DIR/page-test"
mkdir -p "$out_dir"
api_start
wait_for /v1/vips "$(backend web.a health)" healthy 10
wait_for /v1/vips "$(backend web.b health)" unhealthy 10

# Self-contained: HTML, no src=/href= to anything, the JSON API only.
page=$(curl -s --max-time 5 -D "$TMP/headers" "$base/")
expect_contains "$(tr -d '\r' < "$TMP/headers")" "Content-Type: text/html; charset=utf-8"
expect_contains "$page" "<!DOCTYPE html>"
expect_eq "$(grep -Eic '(src|href)=|@import|url\(' <<<"$page")" 0 "external assets in the page"

vip=$(get /v1/vips | json "d['vips'][0]['vip']")
facts=$(python3 "$VIPD_SOURCE_DIR/tests/host/page_cdp.py" "$base" web.a "$backend_a" "$out_dir" 2>&1)
backend_a=
echo "$facts"
fact() { sed -n "s/^$1 //p" <<<"$facts"; }
expect_eq "$(fact row)" $'web.a healthy in\nweb.b unhealthy out' "backends shown at first"
expect_eq "$(fact vip)" "/web $vip TCP 1/2 in rotation" "the VIP's heading"
expect_eq "$(fact timeout)" "" "timeouts"
ge() { python3 -c "import sys; sys.exit(0 if float('${1:-99}') <= $2 else 1)" || fail "$3: expected <= $2, got [$1]"; }
# One poll period is 2 s; a little slack for a shared machine.
ge "$(fact page_after_api_seconds)" 2.5 "seconds from the API to the page showing web.a down"
expect_eq "$(fact same_page)" True "refreshed without reloading"
expect_eq "$(fact timeline)" "healthy,unhealthy" "web.a's timeline"
expect_eq "$(fact rotation)" "0/2 in rotation" "the VIP with no backend in rotation"
expect_eq "$(file -b --mime-type "$out_dir/status-page.png" 2>/dev/null || head -c 4 "$out_dir/status-page.png" | tail -c 3)" \
  image/png "screenshot written"
echo "screenshots: $out_dir/status-page.png $out_dir/status-page-down.png"

kill -TERM $vipd_pid; wait $vipd_pid; rc=$?
expect_eq "$rc" 0 "vipd exit code after SIGTERM"
finish
