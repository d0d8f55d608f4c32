#!/usr/bin/env python3
"""vipd with Marathon as its source, at 10,000 tasks: driven by bench/marathon/run.sh.

The master is tests/tools/marathon_standin.py, a stand-in for Marathon (which
does not run here), serving gen_apps.py's answer. vipd runs --no-ipvs: the
audit log's `planned` ipvs lines are what it would program, with their
`ts` (UTC, millisecond resolution); the kernel's part is excluded. Tasks have
no health checks (checks would send traffic to the agents' addresses):
a running task is in rotation at once, so each change is one planned
operation. Measures:

  a. full read: vipd started (READS times), then the answer served, the
     `reload` line, the last of the table's planned lines; VmHWM; and a
     re-read forced by ending the stream (same state: nothing planned);
  b. event to plan: SAMPLES tasks, each TASK_KILLING (weight 0) then
     TASK_RUNNING (weight 1), one at a time; from the moment the stand-in
     wrote the event to the stream to the `ts` of the ipvs line;
  c. CPU (utime+stime from /proc/PID/stat) idle for DURATION s, then at
     RATE status_update_events/s for DURATION s.

Prints Markdown tables. Timings only: asserts nothing, but stops with an
error when vipd does not plan what an event asks for.
"""
import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    sys.stderr.write("marathon bench: %s\n" % msg)
    sys.stderr.flush()


def ts_epoch(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def pct(values, p):
    """Nearest rank."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def runq_wait_s(pid):
    """Time vipd was runnable but waited for a CPU (/proc/PID/schedstat):
    on a shared host, what the others' load cost it."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[1]) / 1e9


def vm_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class StandIn:
    """The stand-in as a child; its reports, each with the time it was read."""

    def __init__(self, script, apps_file):
        self.proc = subprocess.Popen([sys.executable, script, apps_file], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()
        self.port = int(self.wait(lambda l: l.startswith("port "), 10).split()[1])

    def read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append((time.time(), line.rstrip("\n")))
                self.cond.notify_all()

    def wait(self, match, timeout, start=0):
        """The first report from index start that matches; its text."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for _, line in self.lines[start:]:
                    if match(line):
                        return line
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError("stand-in: no expected report within %g s" % timeout)
                self.cond.wait(left)

    def mark(self):
        with self.cond:
            return len(self.lines)

    def say(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def stop(self):
        try:
            self.say("quit")
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Audit:
    """Follows the audit log: the JSON lines appended since the last look."""

    def __init__(self, path):
        self.path, self.f, self.partial, self.pending = path, None, "", []

    def read(self):
        if self.f is None:
            try:
                self.f = open(self.path)
            except FileNotFoundError:
                return
        data = self.partial + self.f.read()
        parts = data.split("\n")
        self.partial = parts.pop()
        self.pending += [json.loads(p) for p in parts if p]

    def new_lines(self):
        """The lines not yet taken, all of them."""
        self.read()
        lines, self.pending = self.pending, []
        return lines

    def until(self, match, timeout):
        """Takes lines up to the first that matches; returns it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read()
            for i, d in enumerate(self.pending):
                if match(d):
                    self.pending = self.pending[i + 1:]
                    return d
            self.pending = []
            time.sleep(0.002)
        raise RuntimeError("audit log: no expected line within %g s" % timeout)


def start_vipd(args, audit_path):
    if os.path.exists(audit_path):
        os.unlink(audit_path)
    err = open(os.path.join(args.tmp, "vipd.err"), "a")
    t0 = time.time()
    proc = subprocess.Popen([args.vipd, "--apps", "http://127.0.0.1:%d" % args.port, "--audit",
                             audit_path, "--no-ipvs", "--run-for", "36000"], stderr=err,
                            stdout=subprocess.DEVNULL)
    return proc, t0


def stop_vipd(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def full_read(args, standin, expected_ops):
    """Part a: one start; the vipd left running for the next parts."""
    rows = []
    proc = None
    for i in range(args.reads):
        audit_path = os.path.join(args.tmp, "audit.log")
        mark = standin.mark()
        proc, t0 = start_vipd(args, audit_path)
        audit = Audit(audit_path)
        reload_line = audit.until(lambda d: d["event"] == "reload", 120)
        if reload_line["tasks"] != args.apps * args.tasks_per_app:
            raise RuntimeError("reload read %s tasks" % reload_line["tasks"])
        ops, last = 0, None
        while ops < expected_ops:
            last = audit.until(lambda d: d["event"] == "ipvs", 120)
            ops += 1
        served = standin.wait(lambda l: l.startswith("apps "), 10, mark)
        served_at = [t for t, l in standin.lines[mark:] if l == served][0]
        hwm, rss = vm_kib(proc.pid, "VmHWM"), vm_kib(proc.pid, "VmRSS")
        rows.append((i + 1, served_at - t0, ts_epoch(reload_line["ts"]) - t0,
                     ts_epoch(last["ts"]) - t0, hwm, rss))
        log("full read %d: table planned %.3f s after start, VmHWM %d KiB" %
            (i + 1, rows[-1][3], hwm))
        if i + 1 < args.reads:
            stop_vipd(proc)
    # A re-read forced by the stream ending: vipd reconnects (after its
    # backoff) and reads the whole state again, the same state.
    mark = standin.mark()
    standin.say("close")
    attached = standin.wait(lambda l: l.startswith("attached "), 30, mark)
    attached_at = [t for t, l in standin.lines[mark:] if l == attached][0]
    reread = audit.until(lambda d: d["event"] == "reload", 60)
    time.sleep(1)
    planned_after = sum(1 for d in audit.new_lines() if d["event"] == "ipvs")
    reread_row = (ts_epoch(reread["ts"]) - attached_at, vm_kib(proc.pid, "VmHWM"), planned_after)
    return proc, audit, rows, reread_row


def status_json(t, status):
    app_id, tid, host, port = t
    return json.dumps({
        "eventType": "status_update_event", "slaveId": "S0", "taskId": tid,
        "taskStatus": status, "message": "", "appId": app_id, "host": host,
        "ports": [int(port)], "ipAddresses": [{"ipAddress": host, "protocol": "IPv4"}],
        "version": "2026-12-01T09:58:00.000Z", "timestamp": "2026-12-01T10:05:00.000Z"},
        separators=(",", ":"))


def event_to_plan(args, standin, audit, tasks):
    """Part b: one event at a time, each waited for."""
    lat = {"TASK_KILLING": [], "TASK_RUNNING": []}
    picked = tasks[len(tasks) // 2:len(tasks) // 2 + args.samples]
    for n, t in enumerate(picked):
        dest = "%s:%s" % (t[2], t[3])
        for status, weight in (("TASK_KILLING", 0), ("TASK_RUNNING", 1)):
            tag = "%s-%d" % (status, n)
            mark = standin.mark()
            standin.say("event-timed %s status_update_event %s" % (tag, status_json(t, status)))
            line = audit.until(lambda d: d["event"] == "ipvs" and d.get("dest") == dest and
                               d.get("weight") == weight, 10)
            sent = standin.wait(lambda l: l.startswith("sent %s " % tag), 10, mark)
            lat[status].append((ts_epoch(line["ts"]) - float(sent.split()[2])) * 1000)
    return lat


def stats(audit, proc):
    """SIGUSR1: vipd writes a `stats` line (docs/audit-log.md). Returns it
    and the lines before it not yet taken."""
    proc.send_signal(signal.SIGUSR1)
    taken = []
    end = time.monotonic() + 10
    while time.monotonic() < end:
        lines = audit.new_lines()
        for i, d in enumerate(lines):
            if d["event"] == "stats":
                audit.pending = lines[i + 1:] + audit.pending
                return d, taken
            taken.append(d)
        time.sleep(0.01)
    raise RuntimeError("no stats line after SIGUSR1")


def source_to_plan(lines, tasks):
    """For each planned operation, ms from the `source` line of the event
    that asked for it (vipd applied the event) to the ipvs line (planned)."""
    dest_of = {t[1]: "%s:%s" % (t[2], t[3]) for t in tasks}
    applied, lags = {}, []
    for d in lines:
        if d["event"] == "source":
            applied[dest_of.get(d["task"])] = ts_epoch(d["ts"])
        elif d["event"] == "ipvs" and d.get("dest") in applied:
            lags.append((ts_epoch(d["ts"]) - applied.pop(d["dest"])) * 1000)
    return lags


def cpu_at_rate(args, standin, audit, proc, tasks):
    """Part c: idle, then RATE events/s, DURATION s each."""
    audit.new_lines()
    a, t, w = cpu_ticks(proc.pid), time.monotonic(), runq_wait_s(proc.pid)
    time.sleep(args.duration)
    idle = ((cpu_ticks(proc.pid) - a) / CLK_TCK, time.monotonic() - t, runq_wait_s(proc.pid) - w)
    count = int(args.rate * args.duration)
    paced = os.path.join(args.tmp, "paced_run.txt")
    with open(os.path.join(args.tmp, "paced.txt")) as src, open(paced, "w") as dst:
        for i, line in enumerate(src):
            if i >= count:
                break
            dst.write(line)
    before, _ = stats(audit, proc)
    mark = standin.mark()
    a, w = cpu_ticks(proc.pid), runq_wait_s(proc.pid)
    standin.say("events-paced %g %s" % (args.rate, paced))
    done = standin.wait(lambda l: l.startswith("paced "), args.duration * 3 + 30, mark)
    time.sleep(1)  # the last events' rounds
    busy_cpu = (cpu_ticks(proc.pid) - a) / CLK_TCK
    waited = runq_wait_s(proc.pid) - w
    elapsed = float(done.split()[2]) + 1
    after, lines = stats(audit, proc)
    log("during the paced events: %s" % ", ".join(
        "%s +%d" % (k, after[k] - before[k])
        for k in ("rounds", "health_rounds", "health_round_fallbacks")))
    planned = sum(1 for d in lines if d["event"] == "ipvs")
    lags = source_to_plan(lines, tasks)
    changed = sum(1 for d in lines if d["event"] == "source")
    rounds = after["rounds"] - before["rounds"]
    return idle, (busy_cpu, elapsed, int(done.split()[1]), changed, planned, rounds, lags,
                  waited)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vipd", required=True)
    p.add_argument("--standin", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--apps", type=int, default=1000)
    p.add_argument("--tasks-per-app", type=int, default=10)
    p.add_argument("--reads", type=int, default=3)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--duration", type=float, default=30)
    args = p.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "gen_apps.py"), str(args.apps),
                    str(args.tasks_per_app), args.tmp], check=True)
    apps_file = os.path.join(args.tmp, "apps.json")
    with open(os.path.join(args.tmp, "tasks.txt")) as f:
        tasks = [tuple(line.split()) for line in f]
    load_before = loadavg()
    standin = StandIn(args.standin, apps_file)
    args.port = standin.port
    proc = None
    try:
        expected_ops = args.apps + args.apps * args.tasks_per_app
        proc, audit, reads, reread = full_read(args, standin, expected_ops)
        lat = event_to_plan(args, standin, audit, tasks)
        idle, busy = cpu_at_rate(args, standin, audit, proc, tasks)
        hwm_end = vm_kib(proc.pid, "VmHWM")
    finally:
        if proc:
            stop_vipd(proc)
        standin.stop()
    load_after = loadavg()

    size = os.path.getsize(apps_file)
    print("%d apps x %d tasks = %d tasks; /v2/apps?embed=apps.tasks answer %d bytes (%.1f MiB)" %
          (args.apps, args.tasks_per_app, len(tasks), size, size / 1048576.0))
    print("load average %s before, %s after\n" % (load_before, load_after))
    print("a. full read (times from vipd's exec; %d planned operations)\n" % expected_ops)
    print("| run | answer served s | `reload` line s | table planned s | VmHWM MiB | VmRSS MiB |")
    print("|---|---|---|---|---|---|")
    for r in reads:
        print("| %d | %.3f | %.3f | %.3f | %.1f | %.1f |" %
              (r[0], r[1], r[2], r[3], r[4] / 1024.0, r[5] / 1024.0))
    print("\nre-read (stream ended, reconnected): stream attached to `reload` line %.3f s; "
          "VmHWM %.1f MiB after; %d operations planned (same state)\n" %
          (reread[0], reread[1] / 1024.0, reread[2]))
    print("b. event to plan, %d tasks one at a time (stand-in wrote the event -> ipvs line ts;"
          " kernel excluded; 1 ms resolution)\n" % args.samples)
    print("| event | samples | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for status in ("TASK_KILLING", "TASK_RUNNING"):
        v = lat[status]
        print("| %s (weight %d) | %d | %.1f | %.1f | %.1f |" %
              (status, 0 if status == "TASK_KILLING" else 1, len(v), pct(v, 50), pct(v, 99),
               max(v)))
    allv = lat["TASK_KILLING"] + lat["TASK_RUNNING"]
    print("| both | %d | %.1f | %.1f | %.1f |" % (len(allv), pct(allv, 50), pct(allv, 99),
                                                  max(allv)))
    print("\nc. vipd's CPU (utime+stime)\n")
    print("| phase | events sent | `source` lines | rounds | ops planned | s | CPU s |"
          " CPU % of one core | waited for a CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("| idle | 0 | 0 | - | 0 | %.1f | %.2f | %.1f | %.2f |" %
          (idle[1], idle[0], 100 * idle[0] / idle[1], idle[2]))
    print("| %g events/s | %d | %d | %d | %d | %.1f | %.2f | %.1f | %.2f |" %
          (args.rate, busy[2], busy[3], busy[5], busy[4], busy[1], busy[0],
           100 * busy[0] / busy[1], busy[7]))
    lags = busy[6]
    if lags:
        print("\nat %g events/s, `source` line to its ipvs line: p50 %.1f ms, p99 %.1f ms, max"
              " %.1f ms (%d operations; a task killed and running again before a round"
              " plans nothing)" % (args.rate, pct(lags, 50), pct(lags, 99), max(lags),
                                   len(lags)))
    print("\nVmHWM at the end: %.1f MiB" % (hwm_end / 1024.0))


if __name__ == "__main__":
    main()
