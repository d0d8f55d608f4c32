# Assertions for scenario scripts: each failure is printed with what was
# expected; `finish` exits non-zero when any failed.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILURES=0

fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

expect_eq() { # actual expected what
  if [ "$1" != "$2" ]; then
    fail "$3: expected [$2], got [$1]"
  fi
}

expect_contains() { # haystack needle
  case "$1" in
    *"$2"*) ;;
    *) fail "expected output to contain [$2]; output was:"$'\n'"$1" ;;
  esac
}

expect_not_contains() { # haystack needle
  case "$1" in
    *"$2"*) fail "expected output not to contain [$2]; output was:"$'\n'"$1" ;;
  esac
}

finish() {
  if [ "$FAILURES" -ne 0 ]; then
    echo "$FAILURES assertion(s) failed" >&2
    exit 1
  fi
  echo "all assertions passed"
  exit 0
}
