#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4, no websocket
needed) for tests/host/page.test.sh: loads vipd's status page once, reads
what it shows, kills a backend, and times how long the same page (never
reloaded) takes to show it down after vipd's API does.

  page_cdp.py BASE_URL TASK BACKEND_PID SCREENSHOT_DIR

Prints one line per fact, "key value", for the shell test to assert.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,800", "--remote-debugging-pipe"]


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp()
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # Out of the way of 3 and 4, which the child gets.
        hi_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 100)
        hi_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 100)
        os.close(to_child_r)
        os.close(from_child_w)

        def fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.proc = subprocess.Popen(
            ["chromium"] + FLAGS + ["--user-data-dir=" + self.profile, "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(hi_r)
        os.close(hi_w)
        self.buf = b""
        self.next_id = 0
        self.session = None

    def call(self, method, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.from_child, 65536)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(line)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(method + ": " + json.dumps(reply["error"]))
                return reply.get("result", {})

    def open(self, url):
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        self.call("Page.navigate", url=url)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


ROWS = ("JSON.stringify(Array.from(document.querySelectorAll('tr.backend'))"
        ".map(r => [r.dataset.task, r.dataset.health, r.dataset.rotation]))")


def api_health(base, task):
    with urllib.request.urlopen(base + "/v1/vips", timeout=5) as r:
        doc = json.load(r)
    return [b["health"] for v in doc["vips"] for b in v["backends"] if b["task"] == task]


def wait(what, fn, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    print("timeout", what)
    return None


def main():
    base, task, pid, outdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    b = Browser()
    try:
        b.open(base + "/")
        rows = wait("rows", lambda: json.loads(b.eval(ROWS) or "[]"), 10)
        for t, h, rot in rows or []:
            print("row", t, h, rot)
        print("vip", b.eval("document.querySelector('section.vip h2').innerText.replace(/\\s+/g, ' ')"))
        b.eval("window.vipdTestMarker = 1")
        b.screenshot(os.path.join(outdir, "status-page.png"))
        os.kill(pid, 15)
        t_api = wait("api", lambda: api_health(base, task) == ["unhealthy"] and time.monotonic(), 15)
        t_page = wait("page", lambda: b.eval(
            "document.querySelector('tr.backend[data-task=\"%s\"]').dataset.health" % task)
            == "unhealthy" and time.monotonic(), 15)
        if t_api and t_page:
            print("page_after_api_seconds", "%.2f" % max(0.0, t_page - t_api))
        print("same_page", b.eval("window.vipdTestMarker === 1"))
        print("timeline", b.eval(
            "Array.from(document.querySelectorAll('tr.backend[data-task=\"%s\"] .tl span[data-to]'))"
            ".map(s => s.dataset.to).join(',')" % task))
        print("rotation", b.eval("document.querySelector('section.vip .rot').innerText"))
        shot = os.path.join(outdir, "status-page-down.png")
        b.screenshot(shot)
        print("screenshot", shot)
    finally:
        b.close()


if __name__ == "__main__":
    main()
