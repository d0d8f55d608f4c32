#!/usr/bin/env python3
"""A simulated vipd cluster for bench/cluster/run.sh (issue 9, "Scale").

Publishes NODES x TASKS backends (task t of node n belongs to VIP t mod VIPS,
so each VIP has NODES x TASKS / VIPS backends) in etcd through its v3 JSON
gateway, with the keys and values vipd writes (docs/cluster-keys.md): per
node one lease, backends/<node>/<vip-key>/<backend-key> and live/<node>
under it, and a vips/<name> record per named VIP (home address by FNV-1a
as src/lb/vip_alloc.c). Then keeps every lease alive (every TTL/3 s, as
vipd does) and runs commands read one per line from stdin:

  flip COUNT GAP OUT   COUNT health flips (healthy <-> unhealthy) of random
                       backends, one every GAP s; one JSON line per change
                       in OUT: key, backend, health, t_send, t_done (wall
                       clock, s, around the put's HTTP round trip)
  quit

After each command (and after the load) it appends a line to the status
file: `loaded KEYS SECONDS` or `done COMMAND`, and `lost LEASE` when etcd
let a simulated node's lease expire (a host too loaded to keep 100 leases
alive: the run is void). python3 stdlib only.

  publisher.py apps ...    prints the Marathon apps of that cluster (a
                           shared app source in which no task is local)
"""
import argparse
import base64
import http.client
import ipaddress
import json
import random
import sys
import threading
import time
import urllib.parse

KEEPALIVE_THREADS = 4
SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:[]@")


def part(s):
    """A key part, percent-encoded as src/cluster/cluster_keys.c does."""
    return "".join(chr(c) if c in SAFE else "%%%02X" % c for c in s.encode())


def b64(s):
    return base64.b64encode(s.encode()).decode()


def fnv1a32(s):
    h = 2166136261
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def fnv1a64(s):
    h = 14695981039346656037
    for c in s.encode():
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


class Layout:
    def __init__(self, a):
        self.prefix, self.nodes, self.tasks, self.vips = a.prefix, a.nodes, a.tasks, a.vips

    def node(self, n):
        return "sim%03d" % n

    def host(self, n):
        return "10.1.%d.%d" % (n // 250, n % 250 + 1)

    def port(self, t):
        return 20000 + t

    def app(self, t):
        return "/bench/svc%d" % (t % self.vips)

    def task(self, n, t):
        return "bench_svc%d.n%dt%d" % (t % self.vips, n, t)

    def vip(self, t):
        return self.app(t) + ":80"

    def backend_key(self, n, t):
        return "%sbackends/%s/%s/%s" % (self.prefix, self.node(n), part("tcp:" + self.vip(t)),
                                        part("%s:%d" % (self.host(n), self.port(t))))

    def backend_value(self, n, t, health):
        # the field order of cluster_backend_value (JSON_COMPACT | JSON_PRESERVE_ORDER)
        return json.dumps({"vip": self.vip(t), "protocol": "tcp", "address": self.host(n),
                           "port": self.port(t), "weight": 1, "health": health,
                           "app": self.app(t), "task": self.task(n, t), "node": self.node(n)},
                          separators=(",", ":"))

    def vip_records(self):
        """name -> value, each name at the first free address from its hash home."""
        taken4, taken6, out = set(), set(), {}
        names = sorted({self.app(v) for v in range(self.vips)},
                       key=lambda s: (fnv1a32(s) % 0xFFFFFF, s))
        for name in names:
            o4 = fnv1a32(name) % 0xFFFFFF
            while o4 in taken4:
                o4 = (o4 + 1) % 0xFFFFFF
            o6 = fnv1a64(name)
            while o6 in taken6:
                o6 = (o6 + 1) & 0xFFFFFFFFFFFFFFFF
            taken4.add(o4)
            taken6.add(o6)
            v4 = ipaddress.IPv4Address(int(ipaddress.IPv4Address("11.0.0.0")) + o4)
            v6 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("fd01:c::")) + o6)
            out[name] = json.dumps({"ipv4": str(v4), "ipv6": str(v6)}, separators=(",", ":"))
        return out


class Etcd:
    """One keep-alive HTTP/1.1 connection to etcd's JSON gateway."""

    def __init__(self, url, timeout=30.0):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.conn = None

    def call(self, path, body):
        data = json.dumps(body).encode()
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port,
                                                           timeout=self.timeout)
                self.conn.request("POST", path, data, {"Content-Type": "application/json"})
                r = self.conn.getresponse()
                text = r.read()
                if r.status != 200:
                    raise RuntimeError("%s: HTTP %d: %s" % (path, r.status, text[:300]))
                return json.loads(text)
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise

    def grant(self, ttl):
        return int(self.call("/v3/lease/grant", {"TTL": ttl})["ID"])

    def keepalive(self, lease):
        r = self.call("/v3/lease/keepalive", {"ID": lease})
        return int(r.get("result", {}).get("TTL", 0))

    def put_many(self, kvs, lease=0):
        ops = []
        for k, v in kvs:
            put = {"key": b64(k), "value": b64(v)}
            if lease:
                put["lease"] = lease
            ops.append({"request_put": put})
        return self.call("/v3/kv/txn", {"success": ops})

    def put(self, k, v, lease=0):
        body = {"key": b64(k), "value": b64(v)}
        if lease:
            body["lease"] = lease
        return self.call("/v3/kv/put", body)


def load(a, lay, etcd, leases):
    t0 = time.monotonic()
    n_keys = 0
    recs = sorted(lay.vip_records().items())
    for i in range(0, len(recs), a.batch):
        etcd.put_many([(lay.prefix + "vips/" + part(k), v) for k, v in recs[i:i + a.batch]])
    n_keys += len(recs)
    for n in range(lay.nodes):
        kvs = [(lay.backend_key(n, t), lay.backend_value(n, t, "healthy"))
               for t in range(lay.tasks)]
        for i in range(0, len(kvs), a.batch):
            etcd.put_many(kvs[i:i + a.batch], leases[n])
        # live/<node> after the node's first publication, as vipd does
        etcd.put(lay.prefix + "live/" + lay.node(n),
                 json.dumps({"node": lay.node(n)}, separators=(",", ":")), leases[n])
        n_keys += len(kvs) + 1
    return n_keys, time.monotonic() - t0


def keep_alive(a, leases, stop, lost):
    """One of the keep-alive threads: its share of the leases every TTL/3 s,
    on its own connection, so that one slow answer does not make the others
    late. A lease etcd no longer has is reported once in the status file:
    the run is then void (the simulated node's keys are gone)."""
    etcd = Etcd(a.endpoint, timeout=a.ttl / 3.0)
    while not stop.wait(a.ttl / 3.0):
        for lease in leases:
            if lease in lost:
                continue
            try:
                if etcd.keepalive(lease) <= 0:
                    lost.add(lease)
                    status(a, "lost %x" % lease)
            except (OSError, RuntimeError, http.client.HTTPException) as e:
                print("publisher: keepalive %x: %s" % (lease, e), file=sys.stderr, flush=True)


def flip(a, lay, etcd, leases, health, count, gap, out):
    rnd = random.Random(a.seed + len(health))
    with open(out, "a") as f:
        next_at = time.monotonic()
        for _ in range(count):
            n, t = rnd.randrange(lay.nodes), rnd.randrange(lay.tasks)
            h = "unhealthy" if health.get((n, t), "healthy") == "healthy" else "healthy"
            health[(n, t)] = h
            key = lay.backend_key(n, t)
            t_send = time.time()
            etcd.put(key, lay.backend_value(n, t, h), leases[n])
            t_done = time.time()
            f.write(json.dumps({"key": key, "backend": "%s:%d" % (lay.host(n), lay.port(t)),
                                "health": h, "t_send": t_send, "t_done": t_done}) + "\n")
            next_at += gap
            time.sleep(max(0.0, next_at - time.monotonic()))


def status(a, line):
    with open(a.status, "a") as f:
        f.write(line + "\n")


def publish(a):
    lay = Layout(a)
    etcd = Etcd(a.endpoint)
    leases = [etcd.grant(a.ttl) for _ in range(lay.nodes)]
    stop, lost = threading.Event(), set()
    for i in range(KEEPALIVE_THREADS):
        threading.Thread(target=keep_alive, args=(a, leases[i::KEEPALIVE_THREADS], stop, lost),
                         daemon=True).start()
    n_keys, secs = load(a, lay, etcd, leases)
    status(a, "loaded %d %.1f" % (n_keys, secs))
    health = {}
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        if w[0] == "flip" and len(w) == 4:
            flip(a, lay, etcd, leases, health, int(w[1]), float(w[2]), w[3])
        elif w[0] == "quit":
            break
        else:
            print("publisher: unknown command %r" % line, file=sys.stderr, flush=True)
            continue
        status(a, "done " + w[0])
    stop.set()


def apps(a):
    lay = Layout(a)
    out = []
    for v in range(lay.vips):
        ts = [(n, t) for n in range(lay.nodes) for t in range(v, lay.tasks, lay.vips)]
        out.append({
            "id": lay.app(v),
            "portDefinitions": [{"port": 0, "labels": {"VIP_0": lay.vip(v)}}],
            "healthChecks": [{"protocol": "TCP", "portIndex": 0, "intervalSeconds": 10,
                              "timeoutSeconds": 2, "maxConsecutiveFailures": 3}],
            "tasks": [{"id": lay.task(n, t), "host": lay.host(n), "ports": [lay.port(t)]}
                      for n, t in ts],
        })
    json.dump(out, sys.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["publish", "apps"])
    p.add_argument("--endpoint", default="http://127.0.0.1:2379")
    p.add_argument("--prefix", default="/vipd/v1/")
    p.add_argument("--nodes", type=int, default=100)
    p.add_argument("--tasks", type=int, default=1000, help="per node")
    p.add_argument("--vips", type=int, default=1000)
    p.add_argument("--ttl", type=int, default=10, help="lease TTL, s (vipd's default)")
    p.add_argument("--batch", type=int, default=500, help="puts per txn")
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--status", default="/dev/stderr")
    a = p.parse_args()
    if a.mode == "apps":
        apps(a)
    else:
        publish(a)


if __name__ == "__main__":
    main()
