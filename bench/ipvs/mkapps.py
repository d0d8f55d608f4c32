#!/usr/bin/env python3
"""App definitions for the daemon latency benchmark.

  mkapps.py OUTDIR NTASKS HOST FIRST_PORT [STATIC_VIPS STATIC_BACKENDS]

flip.json: app /flip, NTASKS tasks on HOST at FIRST_PORT.. (one port each),
one VIP 10.200.0.10:80, an HTTP check on /health every second.
static.json (when STATIC_VIPS > 0): app /static, STATIC_BACKENDS tasks on
10.50.0.2.. without checks (always in rotation), each with STATIC_VIPS ports,
port i carrying VIP 10.100.<i/256>.<i%256 + 1>:80: a table of STATIC_VIPS
VIPs x STATIC_BACKENDS destinations that never changes.
"""
import json
import os
import sys

out, ntasks, host, first = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
nvips = int(sys.argv[5]) if len(sys.argv) > 5 else 0
nback = int(sys.argv[6]) if len(sys.argv) > 6 else 0
os.makedirs(out, exist_ok=True)

flip = {
    "id": "/flip",
    "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": "10.200.0.10:80"}}],
    "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
                      "intervalSeconds": 1, "timeoutSeconds": 1, "gracePeriodSeconds": 0,
                      "delaySeconds": 0}],
    "tasks": [{"id": "flip.t%d" % i, "host": host, "ports": [first + i],
               "state": "TASK_RUNNING"} for i in range(ntasks)],
}
json.dump(flip, open(os.path.join(out, "flip.json"), "w"))

if nvips > 0:
    static = {
        "id": "/static",
        "portDefinitions": [
            {"port": 0, "protocol": "tcp",
             "labels": {"VIP_0": "10.100.%d.%d:80" % ((i + 1) // 256, (i + 1) % 256)}}
            for i in range(nvips)],
        "tasks": [{"id": "static.b%d" % j, "host": "10.50.0.%d" % (j + 2),
                   "ports": [20000 + i for i in range(nvips)], "state": "TASK_RUNNING"}
                  for j in range(nback)],
    }
    json.dump(static, open(os.path.join(out, "static.json"), "w"))
