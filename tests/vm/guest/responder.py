#!/usr/bin/env python3
"""A backend for VM scenarios: answers every HTTP GET with its own name.

Usage: responder.py NAME PORT [ADDRESS]
"""
import http.server
import sys


def main():
    name, port = sys.argv[1], int(sys.argv[2])
    address = sys.argv[3] if len(sys.argv) > 3 else "0.0.0.0"
    body = (name + "\n").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    family = http.server.ThreadingHTTPServer
    if ":" in address:
        import socket

        class Server6(http.server.ThreadingHTTPServer):
            address_family = socket.AF_INET6

        family = Server6
    family((address, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
