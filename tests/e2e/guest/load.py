#!/usr/bin/env python3
"""A steady load of new connections for the end-to-end scenarios.

  load.py URL STOPFILE [PAUSE]

Makes one new HTTP connection after another to URL (http://HOST[:PORT]/PATH,
IPv6 hosts in brackets), each with a 2 s timeout, PAUSE seconds apart (default
0.02), until STOPFILE exists. Prints one line per request: the body's first
line (the backend's name), or "FAIL <error>".
"""
import http.client
import os
import sys
import time
import urllib.parse

url, stop = sys.argv[1], sys.argv[2]
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
u = urllib.parse.urlsplit(url)
while not os.path.exists(stop):
    try:
        c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=2)
        c.request("GET", u.path or "/")
        r = c.getresponse()
        body = r.read().decode(errors="replace").strip()
        c.close()
        print(body if r.status == 200 else "FAIL status %d" % r.status, flush=True)
    except Exception as e:  # noqa: BLE001 - every error is a failed request
        print("FAIL %s" % e, flush=True)
    time.sleep(pause)
