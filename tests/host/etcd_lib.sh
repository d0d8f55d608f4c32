# Shared by the host tests that run a real etcd 3.4 (Debian's etcd-server)
# on loopback: free ports, a one-member etcd in the background, waiting for
# it to be healthy, and a CA with server and client certificates for TLS.
# Source after tests/cli/lib.sh ($TMP, fail, finish).

for etcd_lib_tool in etcd etcdctl; do
  command -v "$etcd_lib_tool" >/dev/null ||
    { echo "FAIL: no $etcd_lib_tool (etcd-server, etcd-client): scripts/setup.sh installs it"; exit 1; }
done

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# etcd_lib_cleanup: an EXIT trap for tests that keep their processes in the
# associative array pid: each killed (-9) and reaped; $TMP removed unless
# KEEP_TMP is set (then named on stderr).
etcd_lib_cleanup() {
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}

# etcd_run NAME DATA_DIR CLIENT_URL PEER_PORT LOG [etcd options...]: a
# one-member etcd in the background (fd 3 closed: some tests use it); its
# pid in $etcd_last_pid.
etcd_run() {
  local name=$1 dir=$2 url=$3 peer=http://127.0.0.1:$4 log=$5
  shift 5
  etcd --name "$name" --data-dir "$dir" --listen-client-urls "$url" --advertise-client-urls "$url" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "$name=$peer" "$@" >>"$log" 2>&1 3>&- &
  etcd_last_pid=$!
}

# etcd_await LOG CTL...: waits up to 10 s for `CTL endpoint health`; else
# prints LOG and ends the test as failed.
etcd_await() {
  local log=$1
  shift
  for _ in $(seq 100); do "$@" endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$log" >&2
  fail "etcd never got healthy"
  finish
}

# etcd_tls_certs DIR: ca.crt/key, server.crt/key (127.0.0.1) and
# client.crt/key (CN vipd), signed by that CA.
etcd_tls_certs() {
  ( cd "$1" &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=test-ca &&
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 &&
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext &&
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
      -days 1 -extfile server.ext &&
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=vipd &&
    printf 'extendedKeyUsage=clientAuth\n' >client.ext &&
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt \
      -days 1 -extfile client.ext ) >"$1/openssl.log" 2>&1 || fail "openssl: $(cat "$1/openssl.log")"
}
