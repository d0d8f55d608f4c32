#!/usr/bin/env python3
"""Example backends for the demo and the tests: HTTP servers that answer with
their name, each with its own /health status, and bare TCP listeners.

  backend.py --http 18081:web-1 --http 18082:web-2:500 --tcp 18093

--http PORT:NAME[:HEALTH_STATUS]  answers GET / with "NAME\n" (200) and
                                  GET /health, /ready with HEALTH_STATUS (200).
--tcp PORT                        accepts and closes connections.
--bind ADDR                       address to listen on (127.0.0.1).
"""
import argparse
import http.server
import socket
import socketserver
import sys
import threading


def http_handler(name, health):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path in ("/health", "/ready"):
                status, body = health, b""
            else:
                status, body = 200, (name + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve_tcp(bind, port):
    s = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    s.listen(128)
    while True:
        c, _ = s.accept()
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", action="append", default=[])
    ap.add_argument("--tcp", action="append", type=int, default=[])
    ap.add_argument("--bind", default="127.0.0.1")
    a = ap.parse_args()
    threads = []
    for spec in a.http:
        parts = spec.split(":")
        port, name = int(parts[0]), parts[1]
        health = int(parts[2]) if len(parts) > 2 else 200
        srv = Server((a.bind, port), http_handler(name, health))
        threads.append(threading.Thread(target=srv.serve_forever, daemon=True))
    for port in a.tcp:
        threads.append(threading.Thread(target=serve_tcp, args=(a.bind, port), daemon=True))
    for t in threads:
        t.start()
    print("backends ready", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
