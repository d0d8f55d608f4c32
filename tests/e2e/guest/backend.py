#!/usr/bin/env python3
"""A backend for the end-to-end scenarios, run inside a network namespace.

  backend.py NAME PORT [ADDRESS] [--udp]

TCP (HTTP): GET / answers "NAME\n"; GET /health answers 200, or 503 while the
file /tmp/e2e/NAME.down exists; GET /slow/N answers after N seconds (a long
connection that must survive a drain). With --udp: answers every datagram
with "NAME\n".
"""
import http.server
import os
import socket
import socketserver
import sys
import time

name, port = sys.argv[1], int(sys.argv[2])
addr = sys.argv[3] if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else "0.0.0.0"
family = socket.AF_INET6 if ":" in addr else socket.AF_INET

if "--udp" in sys.argv:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto((name + "\n").encode(), peer)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = 200, (name + "\n").encode()
        if self.path == "/health":
            body = b""
            if os.path.exists("/tmp/e2e/%s.down" % name):
                status = 503
        elif self.path.startswith("/slow/"):
            time.sleep(float(self.path.split("/")[2]))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    address_family = family

    def handle_error(self, request, client_address):
        # A client closing first (a health check that has read all it needs) is no error.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


Server((addr, port), Handler).serve_forever()
