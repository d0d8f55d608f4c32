#!/usr/bin/env bash
# The audit log on a full disk (issue 12 item 4): a 64 KiB tmpfs in a private
# mount namespace fills up under a busy vipd. While it is full, lines wait in
# memory (said on stderr); once there is room they are all written, whole and
# in order; full again at SIGTERM, the unwritten tail is counted on stderr,
# and the file still ends with a whole line.
set -u
. "$VIPD_SOURCE_DIR/tests/host/audit_lib.sh"
mkdir -p "$TMP/apps" "$TMP/disk"
write_flapping_app "$TMP/apps" 4 # ~5 KiB of lines a second
export vipd TMP

unshare -m bash -c '
  set -u
  mount -t tmpfs -o size=64k tmpfs "$TMP/disk" || exit 99
  "$vipd" --no-ipvs --apps "$TMP/apps" --audit "$TMP/disk/audit.log" >/dev/null 2>"$TMP/vipd.err" &
  pid=$!
  trap "kill -KILL $pid 2>/dev/null" EXIT
  sleep 1
  dd if=/dev/zero of="$TMP/disk/fill" bs=1k count=100 2>/dev/null # fills it: ENOSPC
  sleep 3
  cp "$TMP/disk/audit.log" "$TMP/while-full.log"
  rm "$TMP/disk/fill"
  sleep 2
  kill -STOP $pid # a copy between two of its writes
  cp "$TMP/disk/audit.log" "$TMP/after-room.log"
  kill -CONT $pid
  rm "$TMP/disk/audit.log" # room again; vipd keeps writing to the unlinked file
  kill -USR1 $pid           # now to a new one
  sleep 1
  dd if=/dev/zero of="$TMP/disk/fill" bs=1k count=100 2>/dev/null
  sleep 3 # longer than the free tail of the last page of the log takes to fill
  kill -TERM $pid
  wait $pid
  echo $? >"$TMP/rc"
  cp "$TMP/disk/audit.log" "$TMP/at-stop.log"
'
rc=$?
[ "$rc" -ne 99 ] || { echo "SKIP: cannot mount a tmpfs here"; exit 0; }
err=$(cat "$TMP/vipd.err")
expect_eq "$(cat "$TMP/rc")" 0 "vipd's exit code after SIGTERM on a full disk"
expect_contains "$err" "audit log $TMP/disk/audit.log: No space left on device; keeping lines in memory (up to 8 MiB) and retrying"
expect_contains "$err" "audit log $TMP/disk/audit.log: writing again"

# While full the file may end mid-line; once there was room, every line
# written so far is there, whole, numbered 1..N with no gap.
if summary=$(check_audit_lines "$TMP/after-room.log"); then
  read -r lines first last lost <<<"$summary"
  expect_eq "$first" 1 "first seq"
  expect_eq "$last" "$lines" "last seq once the disk had room (a gap is a lost line)"
  expect_eq "$lost" 0 "lines lost while the disk was full for 3 s"
  before=$(wc -l <"$TMP/while-full.log")
  [ "$lines" -gt $((before + 10)) ] || fail "only $lines lines after room was made, $before before: the queued lines were not written"
else
  fail "after room was made: $summary"
fi

# Full again at stop: the new file holds whole lines only, and stderr counts
# the rest up to the last seq vipd numbered.
if summary=$(check_audit_lines "$TMP/at-stop.log"); then
  read -r lines first last lost <<<"$summary"
  room_last=$(tail -1 "$TMP/after-room.log" | python3 -c 'import json, sys; print(json.load(sys.stdin)["seq"])')
  [ "$first" -gt "$room_last" ] || fail "the reopened file starts at seq $first, not after $room_last"
  tail_msg=$(grep -o 'the last [0-9]* lines (up to seq [0-9]*) not written at stop (No space left on device)' "$TMP/vipd.err")
  if [ -n "$tail_msg" ]; then
    n=$(echo "$tail_msg" | awk '{print $3}'); upto=$(echo "$tail_msg" | awk '{print $8}' | tr -d ')')
    expect_eq "$((last + n))" "$upto" "lines in the file + lines counted at stop = lines numbered"
  else
    fail "stderr does not count the lines left at stop: $err"
  fi
else
  fail "at stop: $summary"
fi
finish
