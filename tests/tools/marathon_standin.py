#!/usr/bin/env python3
"""A stand-in for Marathon, for the tests: Marathon itself does not run here.

It serves only what vipd reads, in the shapes Marathon's REST API and event
bus document: GET /v2/apps?embed=apps.tasks answers the content of a file
(read again on every request), and GET /v2/events is a Server-Sent Events
stream the test drives. It listens on 127.0.0.1 only, prints "port N" on
stdout once it listens, and takes commands on stdin, one per line.

  marathon_standin.py [APPS_FILE] [--tls CERT KEY]

With --tls it speaks HTTPS only, with the certificate chain in CERT (PEM)
and its key in KEY, as a master behind TLS does; a client that refuses the
certificate is reported as "tls-refused REASON" (the alert it sent).

Commands:

  apps FILE            answer /v2/apps with FILE's content
  apps-status CODE     answer /v2/apps with this HTTP status (200: the file)
  apps-delay SECONDS   wait this long before answering /v2/apps
  apps-truncate N      send only N bytes of the /v2/apps body (its full
                       Content-Length announced), then close (-1: all)
  events-status CODE   answer /v2/events with this HTTP status (200: a stream)
  redirect BASE        answer every request with 307 to BASE + its path, as
                       a standby master redirects to the leader ("-": stop)
  event TYPE JSON      send "event: TYPE" and "data: JSON" to every open stream
  event-timed TAG TYPE JSON
                       the same, and report "sent TAG T" once it is written
                       to a stream (T: the wall-clock time, seconds)
  events-paced RATE FILE
                       send FILE's lines ("TYPE JSON" each) at RATE per
                       second on a fixed schedule, in the background; report
                       "paced N S" (N events in S seconds) when done
  raw TEXT             send TEXT (with \\n and \\r escapes) to every open stream
  close                close every open stream
  quit                 stop

It reports on stdout: "ok" when a command has taken effect, "attached N"
when stream N opens, "apps N" when it answers /v2/apps for the Nth time,
and "auth PATH VALUE" for a request that carries an Authorization header.
"""
import argparse
import http.server
import queue
import ssl
import sys
import threading
import time

lock = threading.Lock()
state = {
    "apps_file": None,
    "apps_status": 200,
    "apps_delay": 0.0,
    "apps_truncate": -1,
    "redirect": None,
    "events_status": 200,
    "streams": [],
    "attached": 0,
    "apps_served": 0,
}


def say(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.0: a stream ends when the connection closes, as Marathon's does.
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def answer(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        auth = self.headers.get("Authorization")
        if auth:
            say("auth %s %s" % (self.path.split("?")[0], auth))
        with lock:
            redirect = state["redirect"]
        if redirect:
            self.send_response(307)
            self.send_header("Location", redirect + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            say("redirected %s" % self.path.split("?")[0])
            return
        if self.path.startswith("/v2/apps"):
            self.serve_apps()
        elif self.path.startswith("/v2/events"):
            self.serve_events()
        else:
            self.answer(404, b'{"message":"not found"}')

    def serve_apps(self):
        with lock:
            delay, code, path = state["apps_delay"], state["apps_status"], state["apps_file"]
            truncate = state["apps_truncate"]
        time.sleep(delay)
        with lock:
            state["apps_served"] += 1
            n = state["apps_served"]
        if code != 200:
            self.answer(code, b'{"message":"stand-in error"}')
        else:
            with open(path, "rb") as f:
                body = f.read()
            if truncate < 0:
                self.answer(200, body)
            else:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:truncate])
                self.wfile.flush()
                self.close_connection = True
        say("apps %d" % n)

    def serve_events(self):
        with lock:
            code = state["events_status"]
        if code != 200:
            self.answer(code, b'{"message":"stand-in error"}')
            return
        q = queue.Queue()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.flush()
        with lock:
            state["streams"].append(q)
            state["attached"] += 1
            n = state["attached"]
        say("attached %d" % n)
        try:
            while True:
                item = q.get()
                if item is None:
                    break
                data, tag = item
                self.wfile.write(data)
                self.wfile.flush()
                if tag is not None:
                    say("sent %s %.6f" % (tag, time.time()))
        except OSError:
            pass
        finally:
            with lock:
                if q in state["streams"]:
                    state["streams"].remove(q)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hung up (vipd timing out a stalled answer) is
        # expected here; anything else is a stand-in bug worth a trace.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class TLSServer(Server):
    """HTTPS: the handshake runs in the request's own thread, so that a
    client that stalls or refuses it holds up no other."""

    context = None

    def finish_request(self, request, client_address):
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except ssl.SSLError as e:
            say("tls-refused %s" % (e.reason or e))
            return
        except OSError:
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def event_bytes(etype, data):
    return ("event: %s\ndata: %s\n\n" % (etype, data)).encode()


def pace(rate, path):
    """Sends path's events at rate per second, each at its slot on a fixed
    schedule (a late one does not push back the next)."""
    with open(path) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    start = time.monotonic()
    for i, line in enumerate(lines):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        etype, _, data = line.partition(" ")
        broadcast((event_bytes(etype, data), None))
    say("paced %d %.3f" % (len(lines), time.monotonic() - start))


def broadcast(item):
    with lock:
        streams = list(state["streams"])
        if item is None:
            state["streams"].clear()
    for q in streams:
        q.put(item)


def command(line):
    verb, _, rest = line.partition(" ")
    if verb == "apps":
        with lock:
            state["apps_file"] = rest
    elif verb == "apps-status":
        with lock:
            state["apps_status"] = int(rest)
    elif verb == "apps-delay":
        with lock:
            state["apps_delay"] = float(rest)
    elif verb == "apps-truncate":
        with lock:
            state["apps_truncate"] = int(rest)
    elif verb == "redirect":
        with lock:
            state["redirect"] = None if rest == "-" else rest
    elif verb == "events-status":
        with lock:
            state["events_status"] = int(rest)
    elif verb == "event":
        etype, _, data = rest.partition(" ")
        broadcast((event_bytes(etype, data), None))
    elif verb == "event-timed":
        tag, _, rest = rest.partition(" ")
        etype, _, data = rest.partition(" ")
        broadcast((event_bytes(etype, data), tag))
    elif verb == "events-paced":
        rate, _, path = rest.partition(" ")
        threading.Thread(target=pace, args=(float(rate), path), daemon=True).start()
    elif verb == "raw":
        broadcast((rest.replace("\\n", "\n").replace("\\r", "\r").encode(), None))
    elif verb == "close":
        broadcast(None)
    elif verb == "quit":
        return False
    return True


def main():
    parser = argparse.ArgumentParser(description="A stand-in for Marathon, for the tests.")
    parser.add_argument("apps_file", nargs="?")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    state["apps_file"] = args.apps_file
    if args.tls:
        server = TLSServer(("127.0.0.1", 0), Handler)
        server.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.context.load_cert_chain(*args.tls)
    else:
        server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    say("port %d" % server.server_address[1])
    for line in sys.stdin:
        if not command(line.rstrip("\n")):
            break
        say("ok")
    broadcast(None)
    server.shutdown()


if __name__ == "__main__":
    main()
