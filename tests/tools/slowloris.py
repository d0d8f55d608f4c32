#!/usr/bin/env python3
"""A hostile client for the TCP servers' limits (the API's and DNS's slowloris
tests): connections that send a greeting and then one byte at a time.

slowloris.py PORT DIR --greeting HEX --byte HEX --every S --sources N
             [--then big-headers|hold]

Phase 1: 64 connections from 127.0.0.2.. (N distinct source addresses, used
round-robin) send the greeting, then one byte every S seconds, for up to
16 s; DIR/trickle gets one line per connection: "open", or how many seconds
it lived before the server closed it. Phase 2: 20 connections from
127.0.0.66 send the greeting; after 1 s DIR/peer is a line of "c" (closed by
the server) and "o" (still open), oldest first. Then "big-headers": one HTTP
request with 64 KiB of headers, the answer's status line (or "closed") in
DIR/big; or "hold": DIR/capped is marked and phase 2's connections are kept
5 s more. DIR/held is marked once phase 1's connections are open, DIR/done
at the end.
"""
import argparse
import os
import select
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("dir")
ap.add_argument("--greeting", required=True)
ap.add_argument("--byte", required=True)
ap.add_argument("--every", type=float, required=True)
ap.add_argument("--sources", type=int, required=True)
ap.add_argument("--then", choices=["big-headers", "hold"], required=True)
args = ap.parse_args()
greeting, one = bytes.fromhex(args.greeting), bytes.fromhex(args.byte)


def conn(src):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", args.port))
    s.sendall(greeting)
    return [s, time.monotonic(), None]


def poll(conns, until, trickle=None):
    next_byte = time.monotonic() + (trickle or 1e9)
    while time.monotonic() < until and any(c[2] is None for c in conns):
        live = [c for c in conns if c[2] is None]
        r, _, _ = select.select([c[0] for c in live], [], [], 0.05)
        for c in live:
            if c[0] in r:
                try:
                    gone = c[0].recv(4096) == b""
                except OSError:
                    gone = True
                if gone:
                    c[2] = time.monotonic() - c[1]
        if time.monotonic() >= next_byte:
            next_byte += trickle
            for c in conns:
                if c[2] is None:
                    try:
                        c[0].send(one)
                    except OSError:
                        c[2] = time.monotonic() - c[1]


def mark(name):
    open(os.path.join(args.dir, name + ".tmp"), "w").close()
    os.rename(os.path.join(args.dir, name + ".tmp"), os.path.join(args.dir, name))


def write(name, text):
    with open(os.path.join(args.dir, name), "w") as f:
        f.write(text)


conns = [conn("127.0.0.%d" % (2 + i % args.sources)) for i in range(64)]
mark("held")
poll(conns, time.monotonic() + 16, trickle=args.every)
write("trickle", "".join("open\n" if c[2] is None else "%.2f\n" % c[2] for c in conns))
for c in conns:
    c[0].close()
conns = [conn("127.0.0.66") for i in range(20)]
poll(conns, time.monotonic() + 1.0)
write("peer", "".join("c" if c[2] is not None else "o" for c in conns) + "\n")
if args.then == "hold":
    mark("capped")
    poll(conns, time.monotonic() + 5.0)
else:
    for c in conns:
        c[0].close()
    s = socket.create_connection(("127.0.0.1", args.port))
    try:
        s.sendall(greeting + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n")
    except OSError:
        pass
    s.settimeout(5)
    try:
        answer = s.recv(4096).split(b"\r\n")[0].decode()
    except OSError:
        answer = ""
    write("big", (answer or "closed") + "\n")
mark("done")
