#!/usr/bin/env python3
"""Tabulates bench/ipvs/guest.sh's BENCH lines into bench/ipvs/README.md (between the
BEGIN/END generated markers). Every cell: median (min–max) over the samples."""
import collections
import statistics
import sys

console, machine_path, readme = sys.argv[1:]
vals = collections.defaultdict(list)
info = []
for line in open(console, errors="replace"):
    line = line.strip()
    if line.startswith("BENCH "):
        _, k, v = line.split(" ", 2)
        vals[k].append(float(v))
    elif line.startswith("BENCHINFO "):
        info.append(line[len("BENCHINFO "):])
machine = open(machine_path).read().strip()


def med(k):
    return statistics.median(vals[k]) if vals[k] else float("nan")


def cell(k, fmt="{:.0f}"):
    v = vals[k]
    if not v:
        return "n/a"
    return (fmt + " ({}–{}), n={}").format(statistics.median(v), fmt.format(min(v)),
                                           fmt.format(max(v)), len(v))


def pct(v, p):
    s = sorted(v)
    return s[min(len(s) - 1, int(p * (len(s) - 1) + 0.5))] if s else float("nan")


out = []
out.append("```\n" + machine + "\n```\n")
out.append("### Table 1. 1,000 VIPs × 10 backends (11,000 IPVS objects): vipd's dataplane vs ipvsadm\n")
out.append("Wall = the whole process, started from bash (`$EPOCHREALTIME` before and after), "
           "for both tools. Round = `dataplane_apply` alone, timed inside `dataplane_tool -T` "
           "(no process start, no netlink open, no reading of the table file).\n")
out.append("| measurement | vipd (dataplane_tool) wall ms | vipd round ms | ipvsadm wall ms | ipvsadm / vipd (wall medians) |")
out.append("|---|---:|---:|---:|---:|")
r1 = med("ipvsadm_restore_wall_ms") / med("vipd_apply_wall_ms")
out.append("| program from empty: `dataplane_tool apply` vs `ipvsadm -R` | {} | {} | {} | **{:.1f}×** |".format(
    cell("vipd_apply_wall_ms"), cell("vipd_apply_round_ms"), cell("ipvsadm_restore_wall_ms"), r1))
r2 = med("ipvsadm_save_wall_ms") / med("vipd_resync_wall_ms")
out.append("| full read-and-diff, nothing to change (resync round) vs `ipvsadm -Sn` (read and print) | {} | {} | {} | **{:.2f}×** |".format(
    cell("vipd_resync_wall_ms"), cell("vipd_resync_round_ms"), cell("ipvsadm_save_wall_ms"), r2))
out.append("| program from empty as the daemon does (`-i vipd0 -s owned.json`: also binds 1,000 /32 addresses, persists the owned set) | {} | {} | – | {:.1f}× |".format(
    cell("vipd_apply_addr_wall_ms"), cell("vipd_apply_addr_round_ms"),
    med("ipvsadm_restore_wall_ms") / med("vipd_apply_addr_wall_ms")))
out.append("")
out.append("### Table 2. One weight change in that table, timed inside the process\n")
out.append("| round | ms | operations |")
out.append("|---|---:|---|")
out.append("| incremental round (`dataplane_apply_patch`, handed only the changed service, plans it against the remembered table, patches that table in place; the daemon's path for a health change) | {} | 1 `edit_dest` (checked) |".format(
    cell("vipd_weight_patch_round_ms", "{:.3f}")))
out.append("| quick round (`dataplane_apply_quick`, handed the whole table, plans against the last round's table, no dump; the daemon's path after a reload, a drain deadline or a slow-start step) | {} | 1 `edit_dest` (checked) |".format(
    cell("vipd_weight_quick_round_ms", "{:.2f}")))
out.append("| full round (`dataplane_apply`: dumps 1,000 services and 10,000 dests, diffs, applies) | {} | 1 `edit_dest` (checked) |".format(
    cell("vipd_weight_full_round_ms")))
out.append("")
out.append("### Table 4. Whole-table rounds driven by the event loop (the daemon's resyncs)\n")
out.append("`dataplane_tool -L -Q -T`: each round through `dataplane_request`, cut into slices run "
           "from an `ev_idle` watcher (at most 2 ms of slices per loop iteration), with a 1 ms "
           "`ev_timer` beside it. Longest iteration = the longest loop iteration spent in the "
           "data plane; longest timer gap = the longest wait between two firings of the 1 ms timer, "
           "i.e. how long anything else in the loop (a check, a DNS answer) could have been held.\n")
out.append("| round | round ms | longest loop iteration ms | longest timer gap ms |")
out.append("|---|---:|---:|---:|")
for key, what in (("apply", "program from empty (11,000 operations)"),
                  ("resync", "resync, nothing to change (reads 11,000 objects)"),
                  ("remove", "remove the 1,000 services")):
    out.append("| {} | {} | {} | {} |".format(
        what, cell("vipd_loop_%s_round_ms" % key), cell("vipd_loop_%s_max_iteration_ms" % key, "{:.2f}"),
        cell("vipd_loop_%s_max_tick_gap_ms" % key, "{:.2f}")))
out.append("")
out.append("### Table 3. The daemon: a check's result to the kernel holding the new weight\n")
out.append("50 tasks (one backend namespace, one busybox httpd per port), HTTP check on `/health` "
           "every 1 s (timeout 1 s); the guest script removes or recreates one task's `/health` file "
           "every 0.2 s, each task in turn. `small`: vipd's table is that VIP and its 50 backends. "
           "`big`: plus a static app giving 999 more VIPs × 10 backends (10,040 destinations, "
           "1,000 addresses on vipd0). `stats` = the audit log's `stats` line (SIGUSR1 at the end; "
           "from a task's health change to the end of the round that applied it). Audit = each "
           "`task` event to the first later `ipvs` op on that task's destination with the new "
           "weight (`ts` fields, ms resolution).\n")
out.append("| table | stats p50 ms | stats p99 ms | stats samples (rounds) | audit task→ipvs p50 / p99 / max ms (pairs) | checks completed | timer lateness p99 ms |")
out.append("|---|---:|---:|---:|---:|---:|---:|")
for name in ("small", "big"):
    p = "daemon_%s_usr1_" % name
    a = vals["daemon_%s_audit_task_to_ipvs_ms" % name]
    if not vals[p + "health_to_kernel_p50_ms"]:
        continue
    out.append("| {} | {:.1f} | {:.1f} | {:.0f} ({:.0f}) | {:.0f} / {:.0f} / {:.0f} ({}) | {:.0f} | {:.0f} |".format(
        name, med(p + "health_to_kernel_p50_ms"), med(p + "health_to_kernel_p99_ms"),
        med(p + "health_to_kernel_samples"), med(p + "rounds"),
        pct(a, 0.5), pct(a, 0.99), max(a) if a else float("nan"), len(a),
        med(p + "checks_completed"), med(p + "timer_lateness_p99_ms")))
out.append("")
out.append("Guest notes: " + "; ".join(info))

quick = med("vipd_weight_quick_round_ms")
patch = med("vipd_weight_patch_round_ms")
t = ["| target | measured | met? |", "|---|---|---|"]
t.append("| vipd's bulk load (1,000 × 10 from empty) faster than `ipvsadm -R` | {:.0f} ms vs {:.0f} ms wall: **{:.1f}× faster** | {} |".format(
    med("vipd_apply_wall_ms"), med("ipvsadm_restore_wall_ms"), r1, "met" if r1 > 1 else "NOT met"))
t.append("| vipd's full read-and-diff faster than `ipvsadm -Sn` | {:.0f} ms vs {:.0f} ms wall: **{:.2f}×** | {} |".format(
    med("vipd_resync_wall_ms"), med("ipvsadm_save_wall_ms"), r2,
    "met" if r2 > 1 else "NOT met"))
t.append("| one weight change in under 1 ms inside the running daemon | incremental round {:.3f} ms in the TCG guest (table 2; the whole-table quick round: {:.2f} ms); daemon p50 {:.1f} ms / p99 {:.0f} ms from health change to kernel with the big table (table 3) | {} in the TCG VM for the round; see below |".format(
    patch, quick, med("daemon_big_usr1_health_to_kernel_p50_ms"), med("daemon_big_usr1_health_to_kernel_p99_ms"),
    "met" if patch < 1 else "NOT met"))

t.append("| the loop never held by the kernel: no loop iteration over 5 ms in the data plane during a resync (1,000 × 10) | longest iteration {:.2f} ms (median over runs; max {:.2f} ms), longest 1 ms-timer gap {:.2f} ms (table 4) | {} |".format(
    med("vipd_loop_resync_max_iteration_ms"), max(vals["vipd_loop_resync_max_iteration_ms"] or [float("nan")]),
    med("vipd_loop_resync_max_tick_gap_ms"),
    "met" if med("vipd_loop_resync_max_iteration_ms") < 5 else "NOT met"))
t.append("| timer lateness p99 under 10 ms across resyncs in the daemon (big table) | {:.0f} ms (table 3) | {} |".format(
    med("daemon_big_usr1_timer_lateness_p99_ms"),
    "met" if med("daemon_big_usr1_timer_lateness_p99_ms") < 10 else "NOT met"))

body = ("<!-- BEGIN generated by bench/ipvs/run.sh -->\n### Targets\n\n" + "\n".join(t) +
        "\n\n" + "\n".join(out) + "\n<!-- END generated by bench/ipvs/run.sh -->")
text = open(readme).read()
a = text.index("<!-- BEGIN generated")
b = text.index("<!-- END generated by bench/ipvs/run.sh -->") + len("<!-- END generated by bench/ipvs/run.sh -->")
open(readme, "w").write(text[:a] + body + text[b:])
print("\n".join(t))
