#!/usr/bin/env python3
"""vipd with Marathon as its source, at 10,000 tasks: driven by bench/marathon/run.sh
(on the host) and bench/marathon/vm.sh (in the VM, with --ipvs).

The master is tests/tools/marathon_standin.py, a stand-in for Marathon (which
does not run here), serving gen_apps.py's answer. vipd runs --no-ipvs: the
audit log's `planned` ipvs lines are what it would program, with their
`ts` (UTC, millisecond resolution); the kernel's part is excluded. With
--ipvs (only where the kernel has IPVS: the VM) vipd programs the kernel,
its `ok` ipvs lines are written after the kernel's ack, and part b reads
the kernel itself (ipvs_probe.py). Tasks have
no health checks (checks would send traffic to the agents' addresses):
a running task is in rotation at once, so each change is one planned
operation. Measures:

  a. full read: vipd started (READS times), then the answer served, the
     `reload` line, the last of the table's planned lines; VmHWM; and a
     re-read forced by ending the stream (same state: nothing planned);
  b. event to plan: SAMPLES tasks, each TASK_KILLING (weight 0) then
     TASK_RUNNING (weight 1), one at a time; from the moment the stand-in
     wrote the event to the stream to the `ts` of the ipvs line; with
     --ipvs also to the first look at the kernel that finds the weight;
  c. CPU (utime+stime from /proc/PID/stat) idle for DURATION s, then at
     RATE status_update_events/s for DURATION s (DURATION 0: skipped).

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


def fmt_ms(v):
    """One decimal; never "-0.0". The audit's ts is truncated to the
    millisecond, the stand-in's times are in microseconds: a sample can read
    up to 1 ms low, a hair below zero when vipd acted within that ms."""
    out = "%.1f" % v
    return "0.0" if out == "-0.0" else out


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

    def __init__(self, script, apps_file, one_cpu=False):
        # SCHED_FIFO (root, in the VM): on one CPU the woken vipd would
        # otherwise run before the stand-in notes the time of its write.
        prefix = ["chrt", "-f", "10"] if one_cpu else []
        self.proc = subprocess.Popen(prefix + [sys.executable, script, apps_file],
                                     stdin=subprocess.PIPE,
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
    # --one-cpu: vipd back to the normal policy from the bench's SCHED_IDLE.
    cmd = ["chrt", "-o", "0"] if args.one_cpu else []
    cmd += [args.vipd, "--apps", "http://127.0.0.1:%d" % args.port, "--audit", audit_path,
            "--run-for", "36000"]
    if not args.ipvs:
        cmd.append("--no-ipvs")
    if args.vipd_debug:
        cmd += ["-v", "-v"]
    proc = subprocess.Popen(cmd, stderr=err, stdout=subprocess.DEVNULL)
    return proc, t0


def stop_vipd(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ipvs_done(d):
    """An ipvs line of an operation done: planned (--no-ipvs) or applied
    (--ipvs: written after the kernel's ack). A refused one stops the bench."""
    if d["event"] != "ipvs":
        return False
    if d["result"] == "error":
        raise RuntimeError("the kernel refused an operation: %s" % json.dumps(d))
    return True


def full_read(args, standin, expected_ops):
    """Part a: one start; the vipd left running for the next parts. Also
    returns each destination's service (the ipvs lines' spelling)."""
    rows = []
    proc = None
    svc_of = {}
    for i in range(args.reads):
        audit_path = os.path.join(args.tmp, "audit.log")
        mark = standin.mark()
        proc, t0 = start_vipd(args, audit_path)
        audit = Audit(audit_path)
        reload_line = audit.until(lambda d: d["event"] == "reload", 300)
        if reload_line["tasks"] != args.apps * args.tasks_per_app:
            raise RuntimeError("reload read %s tasks" % reload_line["tasks"])
        ops, last = 0, None
        while ops < expected_ops:
            last = audit.until(ipvs_done, 300)
            if "dest" in last:
                svc_of[last["dest"]] = last["service"]
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
    planned_after = sum(1 for d in audit.new_lines() if ipvs_done(d))
    reread_row = (ts_epoch(reread["ts"]) - attached_at, vm_kib(proc.pid, "VmHWM"), planned_after)
    return proc, audit, rows, reread_row, svc_of


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
            line = audit.until(lambda d: ipvs_done(d) and d.get("dest") == dest and
                               d.get("weight") == weight, 30)
            sent = standin.wait(lambda l: l.startswith("sent %s " % tag), 10, mark)
            lat[status].append((ts_epoch(line["ts"]) - float(sent.split()[2])) * 1000)
    return lat


def kernel_look(probe, svc, dest, weight, timeout):
    """Looks at the kernel until dest has weight in svc. Returns when the
    look that found it ended, and when the look before it began (the
    kernel took the weight in between), and when the finding look began."""
    prev = time.time()
    end = prev + timeout
    while True:
        began = time.time()
        found = probe.weights(svc).get(dest)
        ended = time.time()
        if found == weight:
            return ended, prev, began
        if ended > end:
            raise RuntimeError("the kernel has %s at weight %s in %s, not %d, after %g s" %
                               (dest, found, svc, weight, timeout))
        prev = began


def event_to_kernel(args, standin, audit, tasks, svc_of):
    """Part b with --ipvs: one event at a time, each followed into the kernel
    by ipvs_probe.py (one dump of the task's service per look, back to back),
    and to its `ok` ipvs line. With --one-cpu the looks run SCHED_IDLE: on
    the guest's one CPU they take no time from vipd or the stand-in, and look
    again as soon as both wait."""
    import ipvs_probe
    probe = ipvs_probe.IpvsProbe()
    lat = {"TASK_KILLING": [], "TASK_RUNNING": []}
    audit_lat = {"TASK_KILLING": [], "TASK_RUNNING": []}
    widths, looks = [], []
    picked = tasks[len(tasks) // 2:len(tasks) // 2 + args.samples]
    try:
        for n, t in enumerate(picked):
            dest = "%s:%s" % (t[2], t[3])
            svc = svc_of[dest]
            for status, weight in (("TASK_KILLING", 0), ("TASK_RUNNING", 1)):
                tag = "%s-%d" % (status, n)
                mark = standin.mark()
                standin.say("event-timed %s status_update_event %s" % (tag, status_json(t, status)))
                seen, before, began = kernel_look(probe, svc, dest, weight, 30)
                line = audit.until(lambda d: ipvs_done(d) and d.get("dest") == dest and
                                   d.get("weight") == weight, 30)
                sent = float(standin.wait(lambda l: l.startswith("sent %s " % tag), 30,
                                          mark).split()[2])
                lat[status].append((seen - sent) * 1000)
                audit_lat[status].append((ts_epoch(line["ts"]) - sent) * 1000)
                widths.append((seen - before) * 1000)
                looks.append((seen - began) * 1000)
    finally:
        probe.close()
    return lat, audit_lat, (widths, looks)


def kernel_table(expected_svcs, expected_dests):
    """After the full read: what the kernel holds, counted by ipvs_probe.py."""
    import ipvs_probe
    probe = ipvs_probe.IpvsProbe()
    try:
        svcs, dests = probe.count()
    finally:
        probe.close()
    if (svcs, dests) != (expected_svcs, expected_dests):
        raise RuntimeError("the kernel holds %d services and %d destinations, not %d and %d" %
                           (svcs, dests, expected_svcs, expected_dests))
    return svcs, dests


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
    patch = (after["health_rounds"] - before["health_rounds"],
             after["health_round_fallbacks"] - before["health_round_fallbacks"])
    return idle, (busy_cpu, elapsed, int(done.split()[1]), changed, planned, rounds, lags,
                  waited, patch)


def latency_table(lat, what):
    print("| event | samples | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for status in ("TASK_KILLING", "TASK_RUNNING"):
        v = lat[status]
        print("| %s (weight %d) | %d | %s | %s | %s |" %
              (status, 0 if status == "TASK_KILLING" else 1, len(v), fmt_ms(pct(v, 50)),
               fmt_ms(pct(v, 99)), fmt_ms(max(v))))
    allv = lat["TASK_KILLING"] + lat["TASK_RUNNING"]
    print("| both (%s) | %d | %s | %s | %s |" % (what, len(allv), fmt_ms(pct(allv, 50)),
                                                fmt_ms(pct(allv, 99)), fmt_ms(max(allv))))


def print_cpu(args, idle, busy):
    print("\nc. vipd's CPU (utime+stime)\n")
    print("| phase | events sent | `source` lines | rounds | ipvs ops | s | CPU s |"
          " CPU % of one core | waited for a CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("| idle | 0 | 0 | - | 0 | %.1f | %.2f | %.1f | %.2f |" %
          (idle[1], idle[0], 100 * idle[0] / idle[1], idle[2]))
    print("| %g events/s | %d | %d | %d | %d | %.1f | %.2f | %.1f | %.2f |" %
          (args.rate, busy[2], busy[3], busy[5], busy[4], busy[1], busy[0],
           100 * busy[0] / busy[1], busy[7]))
    print("\nof the %d rounds, %d patched only the changed app's services; %d such rounds fell"
          " back to a whole-table round (`stats`: health_rounds, health_round_fallbacks)" %
          (busy[5], busy[8][0], busy[8][1]))
    lags = busy[6]
    if lags:
        print("\nat %g events/s, `source` line to its ipvs line: p50 %s ms, p99 %s ms, max"
              " %s ms (%d operations; a task killed and running again before a round"
              " plans nothing)" % (args.rate, fmt_ms(pct(lags, 50)), fmt_ms(pct(lags, 99)),
                                   fmt_ms(max(lags)), len(lags)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vipd", required=True)
    p.add_argument("--standin", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--data", help="gen_apps.py's output, already written (else into --tmp)")
    p.add_argument("--apps", type=int, default=1000)
    p.add_argument("--tasks-per-app", type=int, default=10)
    p.add_argument("--reads", type=int, default=3)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--ipvs", action="store_true",
                   help="program the kernel (its IPVS table must start empty); one read")
    p.add_argument("--one-cpu", action="store_true",
                   help="(root, the VM's one CPU) the stand-in SCHED_FIFO, so that it notes the"
                   " time of its write before vipd runs; this script SCHED_IDLE, so that its"
                   " reading of the audit log and its looks at the kernel take no CPU from vipd")
    p.add_argument("--summary", help="also write the key figures to this file (JSON)")
    p.add_argument("--vipd-debug", action="store_true",
                   help="vipd -v -v (its debug lines in TMP/vipd.err: why a round fell back)")
    args = p.parse_args()
    if args.ipvs:
        # A second vipd would adopt the first one's table: nothing to time.
        args.reads = 1

    here = os.path.dirname(os.path.abspath(__file__))
    data = args.data or args.tmp
    if not args.data:
        subprocess.run([sys.executable, os.path.join(here, "gen_apps.py"), str(args.apps),
                        str(args.tasks_per_app), args.tmp], check=True)
    apps_file = os.path.join(data, "apps.json")
    with open(os.path.join(data, "tasks.txt")) as f:
        tasks = [tuple(line.split()) for line in f]
    if len(tasks) != args.apps * args.tasks_per_app:
        raise RuntimeError("%s: %d tasks, not %d" % (data, len(tasks),
                                                     args.apps * args.tasks_per_app))
    if args.data and args.duration > 0:
        # part c trims a copy of it into --tmp
        subprocess.run(["cp", os.path.join(data, "paced.txt"), args.tmp], check=True)
    load_before = loadavg()
    if args.one_cpu:
        # Before any thread starts: they inherit it. Its figures come from
        # the audit's ts and the stand-in's times, not from when it looks.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    standin = StandIn(args.standin, apps_file, args.one_cpu)
    args.port = standin.port
    proc = None
    kernel = None
    try:
        expected_ops = args.apps + args.apps * args.tasks_per_app
        proc, audit, reads, reread, svc_of = full_read(args, standin, expected_ops)
        if args.ipvs:
            kernel = kernel_table(args.apps, args.apps * args.tasks_per_app)
            lat, audit_lat, widths = event_to_kernel(args, standin, audit, tasks, svc_of)
        else:
            lat = event_to_plan(args, standin, audit, tasks)
        if args.duration > 0:
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
    print("vipd %s; load average %s before, %s after\n" %
          ("programming the kernel (IPVS)" if args.ipvs else "--no-ipvs", load_before,
           load_after))
    done = "in the kernel (last `ok` ipvs line, after the kernel's ack)" if args.ipvs \
        else "planned"
    print("a. full read (times from vipd's exec; %d operations %s)\n" % (expected_ops, done))
    print("| run | answer served s | `reload` line s | table %s s | VmHWM MiB | VmRSS MiB |" %
          ("in the kernel" if args.ipvs else "planned"))
    print("|---|---|---|---|---|---|")
    # --one-cpu: this script, SCHED_IDLE, reads the stand-in's reports late,
    # and "apps N" and "attached N" carry no time of their own.
    for r in reads:
        print("| %d | %s | %.3f | %.3f | %.1f | %.1f |" %
              (r[0], "n/a" if args.one_cpu else "%.3f" % r[1], r[2], r[3], r[4] / 1024.0,
               r[5] / 1024.0))
    if kernel:
        print("\nthe kernel then holds %d services and %d destinations (counted through"
              " netlink, one dump per service)" % kernel)
    print("\nre-read (stream ended, reconnected): stream attached to `reload` line %s; "
          "VmHWM %.1f MiB after; %d operations (same state)\n" %
          ("n/a" if args.one_cpu else "%.3f s" % reread[0], reread[1] / 1024.0, reread[2]))
    if args.ipvs:
        print("b. event to kernel, %d tasks one at a time: from the stand-in's write of the event"
              " to the end of the first netlink look (IPVS_CMD_GET_DEST of the task's service)"
              " that finds the weight in the kernel\n" % args.samples)
        latency_table(lat, "kernel")
        widths, looks = widths
        print("\nthe kernel took the weight between the start of the look before and the end of"
              " the look that found it: %s ms apart at p50, %s ms at p99 (the looks run only while"
              " vipd and the stand-in wait); the finding look itself took %s ms at p50, %s ms at"
              " p99\n" % (fmt_ms(pct(widths, 50)), fmt_ms(pct(widths, 99)),
                         fmt_ms(pct(looks, 50)), fmt_ms(pct(looks, 99))))
        print("b'. the same events, stand-in's write -> `ts` of the `ok` ipvs line (written after"
              " the kernel's ack; 1 ms resolution)\n")
        latency_table(audit_lat, "audit")
    else:
        print("b. event to plan, %d tasks one at a time (stand-in wrote the event -> ipvs line"
              " ts; kernel excluded; ts resolution 1 ms)\n" % args.samples)
        latency_table(lat, "plan")
    if args.duration > 0:
        print_cpu(args, idle, busy)
    print("\nVmHWM at the end: %.1f MiB" % (hwm_end / 1024.0))
    if args.summary:
        write_summary(args, reads[-1], lat, audit_lat if args.ipvs else None,
                      busy if args.duration > 0 else None)


def write_summary(args, read, lat, audit_lat, busy):
    """The figures vm.sh tabulates across runs."""
    def both(v):
        allv = v["TASK_KILLING"] + v["TASK_RUNNING"]
        return [pct(allv, 50), pct(allv, 99), max(allv)]
    out = {"ipvs": args.ipvs, "table_s": read[3], "reload_s": read[2], "hwm_mib": read[4] / 1024.0,
           "event": both(lat), "audit": both(audit_lat) if audit_lat else None,
           "load": loadavg()}
    if busy:
        out["cpu"] = {"rate": args.rate, "events": busy[2], "cpu_s": busy[0], "s": busy[1],
                      "rounds": busy[5], "patched": busy[8][0], "fell_back": busy[8][1],
                      "ops": busy[4]}
    with open(args.summary, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
