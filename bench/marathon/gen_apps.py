#!/usr/bin/env python3
"""Writes a /v2/apps?embed=apps.tasks answer in the shape Marathon 1.x gives
(the fields of each app and task as its REST API documents them, most of
which vipd ignores), and the events of the bench.

  gen_apps.py APPS TASKS_PER_APP OUT_DIR

OUT_DIR/apps.json   the answer: APPS apps of TASKS_PER_APP running tasks, no
                    health checks (a running task is in rotation at once),
                    each app one VIP label; task k of app a on agent
                    10.1.(a*T+k)//250.(..%250+1), host port 31000+k
OUT_DIR/tasks.txt   "APP_ID TASK_ID HOST PORT" per task
OUT_DIR/paced.txt   status_update_event lines ("TYPE JSON") for the paced
                    run: TASK_KILLING then TASK_RUNNING for every task, each
                    a change vipd plans (weight 0, then back to 1)
"""
import json
import os
import sys


def agent(n):
    return "10.1.%d.%d" % (n // 250, n % 250 + 1)


def task(app_id, a, k, per_app):
    n = a * per_app + k
    tid = "%s.%08x-5b5e-11eb-9c2a-0242ac11%04x" % (app_id.strip("/").replace("/", "_"), n, k)
    host = agent(n)
    return {
        "id": tid,
        "slaveId": "c0a1b2c3-d4e5-4f60-8a9b-%012d-S%d" % (n // 250, n // 250),
        "host": host,
        "state": "TASK_RUNNING",
        "startedAt": "2026-12-01T10:00:%02d.%03dZ" % (k % 60, n % 1000),
        "stagedAt": "2026-12-01T09:59:%02d.%03dZ" % (k % 60, n % 1000),
        "ports": [31000 + k],
        "version": "2026-12-01T09:58:00.000Z",
        "ipAddresses": [{"ipAddress": host, "protocol": "IPv4"}],
        "appId": app_id,
        "localVolumes": [],
        "servicePorts": [10000 + a],
    }


def app(a, per_app):
    app_id = "/bench/svc%d" % a
    return {
        "id": app_id,
        "cmd": "exec ./server --port $PORT0",
        "args": None,
        "user": None,
        "env": {"JAVA_OPTS": "-Xmx256m", "SERVICE": "svc%d" % a},
        "instances": per_app,
        "cpus": 0.5,
        "mem": 256,
        "disk": 0,
        "gpus": 0,
        "executor": "",
        "constraints": [["hostname", "UNIQUE"]],
        "uris": [],
        "fetch": [{"uri": "https://artifacts.example/svc%d.tgz" % a, "extract": True,
                   "executable": False, "cache": False}],
        "storeUrls": [],
        "backoffSeconds": 1,
        "backoffFactor": 1.15,
        "maxLaunchDelaySeconds": 3600,
        "container": None,
        "healthChecks": [],
        "readinessChecks": [],
        "dependencies": [],
        "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
        "labels": {"team": "bench"},
        "ipAddress": None,
        "version": "2026-12-01T09:58:00.000Z",
        "residency": None,
        "secrets": {},
        "taskKillGracePeriodSeconds": None,
        "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
        "killSelection": "YOUNGEST_FIRST",
        "versionInfo": {"lastScalingAt": "2026-12-01T09:58:00.000Z",
                        "lastConfigChangeAt": "2026-12-01T09:58:00.000Z"},
        "portDefinitions": [{"port": 10000 + a, "protocol": "tcp", "name": "http",
                             "labels": {"VIP_0": "/bench/svc%d:80" % a}}],
        "requirePorts": False,
        "tasksStaged": 0,
        "tasksRunning": per_app,
        "tasksHealthy": 0,
        "tasksUnhealthy": 0,
        "deployments": [],
        "tasks": [task(app_id, a, k, per_app) for k in range(per_app)],
    }


def status_event(t, status):
    app_id, tid, host, port = t
    return "status_update_event " + json.dumps({
        "eventType": "status_update_event", "slaveId": "S0", "taskId": tid,
        "taskStatus": status, "message": "", "appId": app_id, "host": host,
        "ports": [int(port)], "ipAddresses": [{"ipAddress": host, "protocol": "IPv4"}],
        "version": "2026-12-01T09:58:00.000Z", "timestamp": "2026-12-01T10:05:00.000Z"},
        separators=(",", ":"))


def main():
    apps, per_app, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    doc = {"apps": [app(a, per_app) for a in range(apps)]}
    with open(os.path.join(out, "apps.json"), "w") as f:
        json.dump(doc, f)
    tasks = [(x["id"], t["id"], t["host"], t["ports"][0]) for x in doc["apps"] for t in x["tasks"]]
    with open(os.path.join(out, "tasks.txt"), "w") as f:
        for t in tasks:
            f.write("%s %s %s %d\n" % t)
    # In blocks of 50 tasks: each killed, then each running again (at 100
    # events/s half a second later), so that no two events cancel out in
    # one round.
    with open(os.path.join(out, "paced.txt"), "w") as f:
        for b in range(0, len(tasks), 50):
            for status in ("TASK_KILLING", "TASK_RUNNING"):
                for t in tasks[b:b + 50]:
                    f.write(status_event(t, status) + "\n")


if __name__ == "__main__":
    main()
