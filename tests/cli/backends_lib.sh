# Shared by the vipctl scenario tests that check real backends on loopback
# (check_lint.test.sh, json_output.test.sh): one backend process serving
# $up (200) and $bad (500); $closed is a port next to them that nothing
# listens on. The EXIT trap stops the backends and removes $TMP. Source
# after tests/cli/lib.sh ($TMP).

# Below 32768: ports in the ephemeral range may be held by other tests' connections.
up=$((21000 + RANDOM % 4000)); bad=$((up + 1)); closed=$((up + 2))

python3 "$VIPD_SOURCE_DIR/examples/backends/backend.py" --http "$up:up" --http "$bad:bad:500" &
backends=$!
trap 'kill $backends 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$up/" && break; sleep 0.1; done
