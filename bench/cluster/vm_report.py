#!/usr/bin/env python3
"""Tabulates bench/cluster/vm.sh's console log: the "BENCH <kind> <json>" lines
bench/cluster/vm_guest.sh printed (kinds load, converge_noipvs, converge_ipvs,
change) and its BENCHINFO lines, with the host's machine.txt, as Markdown.
Medians with (min-max); percentiles nearest rank as bench/cluster/report.py.

  vm_report.py CONSOLE_LOG MACHINE_TXT NODES TASKS VIPS
"""
import json
import statistics
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from report import pct  # noqa: E402


def samples(lines, kind):
    out = []
    for line in lines:
        w = line.split(" ", 2)
        if len(w) == 3 and w[0] == "BENCH" and w[1] == kind:
            out.append(json.loads(w[2]))
    return out


def med(rows, key, fmt="%.1f", scale=1.0):
    v = [r[key] * scale for r in rows if r.get(key) is not None]
    if not v:
        return "–"
    m = fmt % statistics.median(v)
    if len(v) == 1:
        return m
    return "%s (%s–%s)" % (m, fmt % min(v), fmt % max(v))


def main():
    console, machine, nodes, tasks, vips = sys.argv[1:6]
    want = int(nodes) * int(tasks)
    lines = [l.rstrip("\n") for l in open(console, errors="replace")]
    out = []
    out.append("```")
    out.extend(l.rstrip("\n") for l in open(machine))
    out.extend(l[len("BENCHINFO "):] for l in lines if l.startswith("BENCHINFO "))
    out.append("```")
    out.append("")
    plan, kern = samples(lines, "converge_noipvs"), samples(lines, "converge_ipvs")
    out.append("| vipd | runs | etcd connected s | prefix read (first cluster_backend line) s "
               "| all %d remote backends planned / in the kernel s | vipd CPU s to converge "
               "| VmHWM MiB | etcd disconnections | guest load avg |" % want)
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rows in (("`--no-ipvs` (planned)", plan), ("IPVS (applied: audit `ok`)", kern)):
        if rows:
            out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                name, len(rows), med(rows, "connected_s", "%.2f"), med(rows, "read_s"),
                med(rows, "converged_s"), med(rows, "cpu_s"),
                med(rows, "hwm_kib", "%.0f", 1 / 1024), med(rows, "etcd_disconnects", "%.0f"),
                med(rows, "load")))
    out.append("")
    if kern:
        out.append("| IPVS run | destinations `ipvsadm -Ln` lists | services | VIP routes on vipd0 "
                   "| ipvs errors | `ipvsadm -Ln` took s | start → count done s |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|")
        for i, r in enumerate(kern, 1):
            out.append("| %d | %d | %d | %d | %d | %.1f | %.1f |" % (
                i, r["kernel_dests"], r["kernel_services"], r["vip_routes"], r["ipvs_errors"],
                r["ipvsadm_list_s"], r["since_start_to_ipvsadm_s"]))
        out.append("")
    ch = samples(lines, "change")
    if ch:
        out.append("| remote weight changes | put → etcd answered ms p50 / max "
                   "| answered → edit_dest applied (audit ts) ms p50 / max "
                   "| answered → `ipvsadm` shows it (polled every 50 ms) ms p50 / max |")
        out.append("|---:|---:|---:|---:|")

        def pm(key):
            v = [r[key] for r in ch if r.get(key) is not None]
            return "%.0f / %.0f" % (pct(v, 50), max(v)) if v else "–"
        out.append("| %d | %s | %s | %s |" % (len(ch), pm("commit_ms"), pm("applied_ms"),
                                              pm("ipvsadm_seen_ms")))
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
