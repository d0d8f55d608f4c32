#!/usr/bin/env python3
"""Reduces bench/cluster/run.sh's raw data: one JSON line per measurement
(modes converge, idle, changes), and the Markdown tables (mode tables).
Percentiles are nearest rank, as include/vipd/percentile.h: always one of
the samples; p99 of fewer than 100 samples is the largest."""
import datetime
import json
import math
import os
import statistics
import sys


def ts_of(line):
    """The `ts` of an audit line as seconds since the epoch."""
    i = line.index('"ts":"') + 6
    d = datetime.datetime.strptime(line[i:i + 24], "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[max(0, math.ceil(p * len(v) / 100) - 1)]


def converge(audit, t0, cpu, hwm, load):
    t0 = float(t0)
    connected = read = last_remote = None
    remote = 0
    with open(audit) as f:
        for line in f:
            if '"event":"cluster_etcd"' in line and connected is None:
                connected = ts_of(line)
            elif '"event":"cluster_backend"' in line and read is None:
                # the first remote record audited: the read of the prefix answered and decoded
                read = ts_of(line)
            elif '"event":"ipvs"' in line and '"op":"add_dest"' in line and '"dest":"10.1.' in line:
                remote += 1
                last_remote = ts_of(line)
    print(json.dumps({"connected_s": connected - t0, "read_s": read - t0,
                      "converged_s": last_remote - t0, "remote_planned": remote,
                      "cpu_s": float(cpu), "hwm_kib": int(hwm), "load": float(load)}))


def idle(before, after, t0, t1, c0, c1, rss, hwm, lines, load, vipds, nodes, ttl):
    b, a = json.loads(before), json.loads(after)
    secs = float(t1) - float(t0)
    rates = {k: (a[k] - b.get(k, 0)) / secs for k in a}
    print(json.dumps({"seconds": secs, "rates": rates, "vipd_cpu_pct": 100 * (float(c1) - float(c0)) / secs,
                      "rss_kib": int(rss), "hwm_kib": int(hwm), "audit_lines": int(lines),
                      "load": float(load), "vipds": int(vipds), "nodes": int(nodes),
                      "ttl": int(ttl)}))


def changes(phase, flips, audit, t0, t1, c0, c1, hwm, load, gap):
    t0, t1 = float(t0), float(t1)
    watched, planned = {}, {}
    with open(audit) as f:
        for line in f:
            if '"event":"ipvs"' in line:
                kind, field = planned, '"dest":"'
            elif '"event":"cluster_backend"' in line:
                kind, field = watched, '"backend":"'
            else:
                continue
            i = line.find(field)
            if i < 0:
                continue
            t = ts_of(line)
            if t < t0 - 1:
                continue
            i += len(field)
            kind.setdefault(line[i:line.index('"', i)], []).append(t)
    commit, watch, plan, total, missing = [], [], [], [], 0
    rows = [json.loads(l) for l in open(flips)]
    for r in rows:
        # audit ts are milliseconds: a line of the same millisecond as the put counts
        after = r["t_send"] - 0.001
        w = [t for t in watched.get(r["backend"], []) if t >= after]
        p = [t for t in planned.get(r["backend"], []) if t >= after]
        if not p or not w:
            missing += 1
            continue
        commit.append(1000 * (r["t_done"] - r["t_send"]))
        watch.append(1000 * (min(w) - r["t_done"]))
        plan.append(1000 * (min(p) - r["t_done"]))
        total.append(1000 * (min(p) - r["t_send"]))

    def stats(v):
        return {"p50": pct(v, 50), "p99": pct(v, 99), "max": max(v) if v else float("nan")}

    wall = t1 - t0
    print(json.dumps({"phase": phase, "changes": len(rows), "missing": missing,
                      "rate": len(rows) / (rows[-1]["t_send"] - rows[0]["t_send"]) if len(rows) > 1 else 0,
                      "gap": float(gap), "commit_ms": stats(commit), "watch_ms": stats(watch),
                      "plan_ms": stats(plan), "total_ms": stats(total), "seconds": wall,
                      "vipd_cpu_pct": 100 * (float(c1) - float(c0)) / wall, "hwm_kib": int(hwm),
                      "load": float(load)}))


def med(rows, key):
    v = [r[key] for r in rows]
    return statistics.median(v), min(v), max(v)


def fmt(m, digits=1):
    return "%.*f (%.*f–%.*f)" % (digits, m[0], digits, m[1], digits, m[2])


def tables(out, nodes, tasks, vips, apps, keys, load_s, etcd_version):
    def read(name):
        p = os.path.join(out, name)
        return [json.loads(l) for l in open(p)] if os.path.exists(p) else []

    conv, idl, chg = read("converge.jsonl"), read("idle.jsonl"), read("changes.jsonl")
    n = int(nodes) * int(tasks)
    print("Cluster: %s simulated nodes x %s tasks = %d backends over %s named VIPs "
          "(%s keys, loaded in %s s through the JSON gateway, txns of 500 puts); %s; "
          "the vipd's app source: %s.\n" % (nodes, tasks, n, vips, keys, load_s, etcd_version,
                                            "shared (every node's apps, %d tasks)" % n
                                            if apps == "shared" else "node-local (its own app only)"))
    if conv:
        print("#### a. A new vipd converging from empty (--no-ipvs: kernel programming excluded)\n")
        print("| runs | etcd connected s | prefix read (first cluster_backend line) s | all %d remote backends planned s "
              "| vipd CPU s to converge | VmHWM MiB | load avg |" % n)
        print("|---:|---:|---:|---:|---:|---:|---:|")
        hwm = [dict(r, hwm_mib=r["hwm_kib"] / 1024) for r in conv]
        print("| %d | %s | %s | %s | %s | %s | %s |\n" % (
            len(conv), fmt(med(conv, "connected_s"), 2), fmt(med(conv, "read_s")),
            fmt(med(conv, "converged_s")), fmt(med(conv, "cpu_s")), fmt(med(hwm, "hwm_mib"), 0),
            fmt(med(conv, "load"))))
        print("Median (min–max) over the runs; seconds from the vipd's start (`date` just before "
              "exec) to the `ts` of its audit lines.\n")
    for r in idl:
        rt = r["rates"]
        print("#### c. etcd writes when nothing changes (%.0f s; %d vipd nodes following, "
              "%d simulated nodes keeping their leases alive)\n" % (r["seconds"], r["vipds"], r["nodes"]))
        print("| puts/s | deletes/s | txns/s | raft proposals committed/s | lease renewals/s "
              "| expected renewals/s (leases / (TTL/3)) | vipd audit lines | load avg |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print("| %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %d | %.1f |\n" % (
            rt.get("etcd_debugging_mvcc_put_total", float("nan")),
            rt.get("etcd_debugging_mvcc_delete_total", float("nan")),
            rt.get("etcd_debugging_mvcc_txn_total", float("nan")),
            rt.get("etcd_server_proposals_committed_total", float("nan")),
            rt.get("etcd_debugging_lease_renewed_total", float("nan")),
            (r["nodes"] + r["vipds"]) / (r["ttl"] / 3.0), r["audit_lines"], r["load"]))
    if chg:
        print("#### b. One remote change to the vipd's plan\n")
        print("| phase | changes | offered/s | put → etcd answered (commit) ms p50 / p99 "
              "| answered → cluster_backend line ms p50 / p99 | answered → ipvs line (plan) ms p50 / p99 / max "
              "| put → plan ms p50 / p99 | not seen |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in chg:
            c, w, p, t = r["commit_ms"], r["watch_ms"], r["plan_ms"], r["total_ms"]
            print("| %s | %d | %.0f | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f / %.1f | %.1f / %.1f | %d |" % (
                r["phase"], r["changes"], r["rate"], c["p50"], c["p99"], w["p50"], w["p99"],
                p["p50"], p["p99"], p["max"], t["p50"], t["p99"], r["missing"]))
        print()
    rows = [("idle (%.0f s)" % r["seconds"], r["vipd_cpu_pct"], None, r["rss_kib"], r["hwm_kib"],
             r["load"]) for r in idl]
    rows += [("%s: %d changes at %.0f/s (%.0f s)" % (r["phase"], r["changes"], r["rate"], r["seconds"]),
              r["vipd_cpu_pct"], 10 * r["vipd_cpu_pct"] * r["seconds"] / r["changes"], None,
              r["hwm_kib"], r["load"]) for r in chg]
    if rows:
        print("#### d. CPU and memory of the vipd following the cluster\n")
        print("| phase | CPU (user+sys) % of one core | CPU ms per change | VmRSS MiB | VmHWM MiB | load avg |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, cpu, per, rss, hwm, load in rows:
            print("| %s | %.1f | %s | %s | %.0f | %.1f |" % (
                name, cpu, "%.1f" % per if per is not None else "–", "%.0f" % (rss / 1024) if rss else "–",
                hwm / 1024, load))
        print()


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    {"converge": converge, "idle": idle, "changes": changes, "tables": tables}[mode](*args)


if __name__ == "__main__":
    main()
