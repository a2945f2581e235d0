"""Benchmarks of smarttrace.sso (measurements, not tests): requests, per-task cost, import time, a fleet.

Run by ``make bench``; each part runs inside ``tests/tools/with_sandbox.sh`` (its own sandbox, so its own
request log) and writes one JSON file; ``report`` turns them into docs/performance.json and docs/performance.md.

    bench.py role     --out FILE               the role on a fresh tenant, its re-run (warm and cold token cache)
    bench.py per-task --out FILE [--tasks N] [--runs R]
                                               N entra_app_info tasks against N ansible.builtin.ping tasks, R runs
    bench.py imports  --out FILE               python -X importtime of every module
    bench.py fleet    --out FILE [--hosts N] [--forks F]
                                               N instances as inventory hosts (the sandbox throttles, see Makefile)
    bench.py report   --dir DIR --json FILE --markdown FILE

Requests are read from the sandbox log (``$SANDBOX_STATE/requests.jsonl``): one line per HTTP request. A request is a
*write* when it changes state: POST/PUT/PATCH/DELETE, except the token request (``login``), a ``$batch`` whose
sub-requests are all GETs (a read) and SmartTrace's ``POST .../test`` (an *action*: it signs in with the stored
secret and changes nothing). Each request is attributed to the task that was running when it arrived (the
``bench_timer`` callback records every task's start and end).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import ssl

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = pathlib.Path(sys.executable).parent
# A copy of the collection of its own (make bench sets it), so a `make tree` run beside it cannot pull the files away.
COLLECTIONS = pathlib.Path(os.environ.get("BENCH_COLLECTIONS") or REPO / ".build" / "collections")
MODULES = ("entra_app", "entra_app_info", "entra_assignment", "entra_secret", "entra_tenant_info", "entra_user",
           "smarttrace_integration", "smarttrace_integration_info")
TARGETS = {"rerun_requests": 6, "rerun_requests_new_controller": 8, "rerun_writes": 0, "token_requests_per_play": 1, "per_task_ratio": 1.3,
           "bulk_first": 160, "bulk_rerun": 60, "parallel_efficiency": 0.6, "fresh_instance": 13}
# Issue 19's starting point, shown next to today's figures: a fresh fleet instance (no test user) cost 17 requests, an unchanged
# re-run with a cached token 6.
BEFORE = {"fresh_instance": 17, "rerun_requests": 6}
TEST_USER_TASK = "Create the test users"
ENV_MAPPING = {"AZURE_TENANT_ID": "tenant_id", "AZURE_CLIENT_ID": "client_id", "AZURE_CLIENT_SECRET": "client_secret",
               "AZURE_AUTHORITY_HOST": "authority_url", "ENTRA_GRAPH_URL": "graph_url", "REQUESTS_CA_BUNDLE": "ca",
               "SMARTTRACE_API_URL": "smarttrace_url", "SMARTTRACE_API_TOKEN": "smarttrace_token"}
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
DEMO_VARS = REPO / "playbooks" / "demo_vars.yml"


# ---------------------------------------------------------------------------- sandbox, log, ansible

def endpoint():
    return json.loads(pathlib.Path(os.environ["SANDBOX_ENDPOINT"]).read_text(encoding="utf-8"))


def log_path():
    return pathlib.Path(os.environ["SANDBOX_STATE"]) / "requests.jsonl"


def log_length():
    path = log_path()
    return sum(1 for _line in path.open(encoding="utf-8")) if path.exists() else 0


def log_since(start):
    with log_path().open(encoding="utf-8") as lines:
        return [json.loads(line) for index, line in enumerate(lines) if index >= start]


def sandbox_state():
    ep = endpoint()
    context = ssl.create_default_context(cafile=ep["ca"])
    with urllib.request.urlopen(ep["url"].rstrip("/") + "/_sandbox/state", context=context, timeout=30) as answer:
        return json.loads(answer.read())


def kind(entry):
    """read, write, login or action (see the module docstring)."""
    if entry["surface"] == "login":
        return "login"
    if entry["method"] in ("GET", "HEAD"):
        return "read"
    if entry["path"].rstrip("/") == "/v1.0/$batch":
        subs = (entry.get("body") or {}).get("requests") or []
        return "read" if all(sub.get("method", "GET").upper() == "GET" for sub in subs) else "write"
    if entry["surface"] == "smarttrace" and entry["path"].endswith("/test"):
        return "action"
    return "write"


def asks_for_token(entry):
    return entry["surface"] == "login" and entry["method"] == "POST" and "token" in entry["path"]


def is_token_request(entry, client_id):
    """A token request of the automation identity (``client_id``, the endpoint's). The proof of each new client secret is a
    token request too, but by the SmartTrace app the secret belongs to: it is counted apart (``is_secret_proof``)."""
    body_client = str((entry.get("body") or {}).get("client_id") or "").lower()
    return asks_for_token(entry) and (body_client == client_id.lower() or not body_client)


def is_secret_proof(entry, client_id):
    return asks_for_token(entry) and not is_token_request(entry, client_id)


def describe(entry):
    text = "%s %s" % (entry["method"], entry["path"])
    if entry["path"].rstrip("/") == "/v1.0/$batch":
        subs = (entry.get("body") or {}).get("requests") or []
        text += " [%s]" % "; ".join("%s %s" % (sub.get("method"), sub.get("url", "").split("?")[0]) for sub in subs)
    return text


def summarize(entries):
    figures = {"total": len(entries), "status_429": sum(1 for e in entries if e.get("status") == 429)}
    for surface in ("login", "graph", "smarttrace"):
        figures[surface] = sum(1 for e in entries if e["surface"] == surface)
    for name in ("read", "write", "login", "action"):
        figures["kind_" + name] = sum(1 for e in entries if kind(e) == name)
    identity = endpoint()["client_id"]
    figures["token_requests"] = sum(1 for e in entries if is_token_request(e, identity))
    figures["secret_proofs"] = sum(1 for e in entries if is_secret_proof(e, identity))
    figures["batch"] = sum(1 for e in entries if e["path"].rstrip("/") == "/v1.0/$batch")
    figures["batched_sub_requests"] = sum(len((e.get("body") or {}).get("requests") or [])
                                          for e in entries if e["path"].rstrip("/") == "/v1.0/$batch")
    return figures


def log_time(entry):
    return datetime.datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def attribute(entries, timings):
    """Requests per task (by arrival time inside a task's start..end; a fork's requests go to the task running)."""
    per_task = []
    for timing in timings:
        mine = [e for e in entries if timing["start"] - 0.05 <= log_time(e) <= timing["end"] + 0.05]
        if mine:
            per_task.append({"task": timing["task"], "host": timing["host"], "requests": [describe(e) + " -> %s (%s)" % (e["status"], kind(e))
                                                                                          for e in mine]})
    return per_task


def ansible_env(work, cache_dir=None, extra=None):
    ep = endpoint()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="bench_timer,bench_cpu", ANSIBLE_HOST_KEY_CHECKING="false", BENCH_CPU=str(work / "cpu.jsonl"),
               SMARTTRACE_SSO_TOKEN_CACHE_DIR=str(cache_dir or tempfile.mkdtemp(dir=str(work))),
               BENCH_TIMINGS=str(work / "timings.json"))
    env.update({variable: str(ep[key]) for variable, key in ENV_MAPPING.items()})
    env.update(extra or {})
    return env


def play(args, work, env):
    """Run ansible-playbook; return ({seconds, rc, recap per host}, task timings)."""
    timings_file, cpu_file = pathlib.Path(env["BENCH_TIMINGS"]), pathlib.Path(env["BENCH_CPU"])
    for stale in (timings_file, cpu_file):
        if stale.exists():
            stale.unlink()
    started, cpu_before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([str(BIN / "ansible-playbook")] + args, cwd=str(work), env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of ansible-playbook and every process it started (forks, modules), not the sandbox's
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "unreachable": int(m.group(4)), "failed": int(m.group(5))}
             for m in RECAP.finditer(done.stdout)}
    timings = json.loads(timings_file.read_text(encoding="utf-8")) if timings_file.exists() else []
    (work / "ansible-playbook.log").write_text(done.stdout + "\n" + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + "\n" + done.stderr[-4000:] + "\n(whole output: %s)\n" % (work / "ansible-playbook.log"))
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 1), "rc": done.returncode, "recap": recap, "cpu": cpu_by_task(cpu_file)}, timings


def cpu_by_task(path):
    """The CPU seconds the play spent, from the callback bench_cpu: ansible-playbook's main process, and per task (summed over
    its hosts) the worker processes and the processes they started (a module's own Python process, the connection's shell),
    and which task and host pairs were skipped."""
    main, tasks = None, {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    records = [json.loads(line) for line in lines]
    skipped = set((record["skipped"], record["task"]) for record in records if "skipped" in record)
    for record in records:
        if "main" in record:
            main = record["main"]
        if "worker" not in record:
            continue
        task = tasks.setdefault(record["task"], {"task": record["task"], "action": record["action"], "runs": 0, "skipped": 0, "worker": 0.0,
                                                 "children": 0.0})
        task["runs"] += 1
        task["skipped"] += (record["host"], record["task"]) in skipped
        task["worker"] += record["worker"]
        task["children"] += record["children"]
    return {"main": main, "tasks": [dict(task, worker=round(task["worker"], 3), children=round(task["children"], 3)) for task in tasks.values()]}


def write(path, data):
    pathlib.Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------- 1. the role, fresh and unchanged

def bench_role(opts):
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-role-"))
    cache = work / "token-cache"
    cache.mkdir(mode=0o700)
    playbook = ["smarttrace.sso.configure", "-e", "smarttrace_sso_instance=acme", "-e", "@%s" % DEMO_VARS]
    runs = {}
    for name, cache_dir in (("fresh", cache), ("rerun_same_controller", cache), ("rerun_new_controller", None)):
        start = log_length()
        result, timings = play(playbook, work, ansible_env(work, cache_dir))
        entries = log_since(start)
        result.update(summarize(entries))
        result["changed"] = sum(host["changed"] for host in result["recap"].values())
        result["requests_by_task"] = attribute(entries, timings)
        result.pop("cpu")  # reported for the fleet
        runs[name] = result
        print("role %-22s rc=%d %5.1fs changed=%d requests=%d (graph %d, login %d, smarttrace %d; reads %d, writes %d, actions %d)" % (
            name, result["rc"], result["seconds"], result["changed"], result["total"], result["graph"], result["login"],
            result["smarttrace"], result["kind_read"], result["kind_write"], result["kind_action"]))
    write(opts.out, {"runs": runs, "token_cache": "fresh and rerun_same_controller share one msal token cache (the default, "
                                                  "token_cache=true); rerun_new_controller starts with an empty one (a new CI runner)"})
    return 0 if all(run["rc"] == 0 for run in runs.values()) else 1


# ---------------------------------------------------------------------------- 2. per-task cost and import time

PER_TASK_SETUP = """- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: The app the info tasks read
      smarttrace.sso.entra_app:
        display_name: st-sso-bench-info
        unique_name: st-sso-bench-info
"""

MIN_PER_TASK_RUNS = 3  # the median of fewer says nothing; more runs only while the part's share of the budget lasts
PER_TASK = """- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
%s
"""


def bench_per_task(opts):
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-per-task-"))
    cache = work / "token-cache"
    cache.mkdir(mode=0o700)
    (work / "setup.yml").write_text(PER_TASK_SETUP, encoding="utf-8")
    setup = play(["setup.yml"], work, ansible_env(work, cache))[0]
    if setup["rc"]:
        return 1
    tasks = []
    for index in range(opts.tasks):  # interleaved, so drift of the machine hits both alike
        tasks.append("    - name: ping %d\n      ansible.builtin.ping:\n" % index)
        tasks.append("    - name: info %d\n      smarttrace.sso.entra_app_info:\n        unique_name: st-sso-bench-info\n" % index)
    (work / "per_task.yml").write_text(PER_TASK % "".join(tasks), encoding="utf-8")
    runs = []
    for run in range(opts.runs):
        if run >= MIN_PER_TASK_RUNS and opts.deadline and time.time() > opts.deadline:
            print("per-task: %d of %d runs, the part's share of BENCH_BUDGET is spent" % (run, opts.runs))
            break
        start = log_length()
        result, timings = play(["per_task.yml"], work, ansible_env(work, cache))
        if result["rc"]:
            return 1
        ping = [t["seconds"] for t in timings if t["action"].endswith("ping")]
        info = [t["seconds"] for t in timings if t["action"].endswith("entra_app_info")]
        entries = log_since(start)
        runs.append({"ping_median_s": round(statistics.median(ping), 4), "info_median_s": round(statistics.median(info), 4),
                     "ratio": round(statistics.median(info) / statistics.median(ping), 3), "requests": summarize(entries),
                     "play_seconds": result["seconds"]})
        print("per-task run %d: ping %.3fs, entra_app_info %.3fs, ratio %.2f, %d requests" % (
            run + 1, runs[-1]["ping_median_s"], runs[-1]["info_median_s"], runs[-1]["ratio"], len(entries)))
    write(opts.out, {"tasks": opts.tasks, "runs": runs, "ratio_median": round(statistics.median(r["ratio"] for r in runs), 3)})
    return 0


NOTABLE_IMPORTS = ("requests", "msal", "jmespath", "cryptography.x509", "difflib", "ansible.module_utils.basic")


def import_profile(statement):
    """python -X importtime: {module name: cumulative microseconds} where it was first imported."""
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], env=env, capture_output=True, text=True, check=True)
    cumulative = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
        if match:
            cumulative.setdefault(match.group(3), int(match.group(2)))
    return cumulative


def bench_imports(opts):
    """Import time of each module's code in a fresh interpreter (what every task pays before its first request)."""
    runs = max(opts.runs, 1)
    baseline = statistics.median(import_profile("import ansible.module_utils.basic")["ansible.module_utils.basic"] for _run in range(runs))
    modules = {}
    for module in MODULES:
        name = "ansible_collections.smarttrace.sso.plugins.modules.%s" % module
        profiles = [import_profile("import %s" % name) for _run in range(runs)]
        total = statistics.median(profile[name] for profile in profiles)
        notable = {lib: round(statistics.median(profile.get(lib, 0) for profile in profiles) / 1000, 1) for lib in NOTABLE_IMPORTS}
        modules[module] = {"total_ms": round(total / 1000, 1), "beyond_basic_ms": round((total - baseline) / 1000, 1),
                           "first_imported_by_it_ms": {lib: ms for lib, ms in notable.items() if ms}}
        print("import %-30s %6.1f ms (%5.1f ms beyond ansible.module_utils.basic) %s" % (
            module, total / 1000, (total - baseline) / 1000, modules[module]["first_imported_by_it_ms"]))
    write(opts.out, {"python": sys.version.split()[0], "runs": runs, "ansible_module_utils_basic_ms": round(baseline / 1000, 1), "modules": modules})
    return 0


# ---------------------------------------------------------------------------- 4. the fleet

FLEET_VARS = """smarttrace_sso_assign_groups: [SmartTrace Users]
"""
SOLO = "fleet-solo"


# Sizing the fleet to a deadline: the fleet and its audit are assumed to reach no better than this efficiency, and the
# audit to take this share of the fleet's time (both pessimistic, measured 0.3 to 0.4 and about a third on a busy 2-core
# machine); the fleet is never made smaller than twice the forks, below which the efficiency says little.
PESSIMISTIC_EFFICIENCY = 0.3
AUDIT_SHARE = 0.4


def fleet_size(opts, solo_seconds):
    """How many instances fit before ``opts.deadline`` (epoch seconds; 0: all of ``opts.hosts``)."""
    if not opts.deadline:
        return opts.hosts
    remaining = opts.deadline - time.time()
    per_host = solo_seconds / (opts.forks * PESSIMISTIC_EFFICIENCY) * (1 + AUDIT_SHARE)
    return max(min(opts.hosts, int(remaining / per_host)), min(opts.hosts, 2 * opts.forks))


def bench_fleet(opts):
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    names = ["fleet-%02d" % index for index in range(1, opts.hosts + 1)]
    missing = sorted(set(names + [SOLO]) - set(endpoint()["instances"]))
    if missing:
        sys.stderr.write("the sandbox lacks the instances %s (start it with SANDBOX_EXTRA_INSTANCES)\n" % ", ".join(missing))
        return 1
    inventory = {"fleet": {"hosts": {name: {"smarttrace_sso_instance": name} for name in names}},
                 "solo": {"hosts": {SOLO: {"smarttrace_sso_instance": SOLO}}}}
    (work / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
    (work / "vars.yml").write_text(FLEET_VARS, encoding="utf-8")
    # One instance alone first, in the same run and sandbox (same throttling, same machine load): the yardstick of the
    # parallel efficiency = (hosts / forks x one instance's wall time) / the fleet's wall time.
    solo_start = log_length()
    solo, _solo_timings = play(["-i", "inventory.json", "smarttrace.sso.configure", "-e", "smarttrace_sso_hosts=solo", "-e", "@vars.yml"],
                               work, ansible_env(work))
    solo.update(summarize(log_since(solo_start)))
    if solo["rc"]:
        return 1
    requested = opts.hosts
    opts.hosts = fleet_size(opts, solo["seconds"])
    if opts.hosts < requested:
        names = names[:opts.hosts]
        inventory["fleet"]["hosts"] = {name: {"smarttrace_sso_instance": name} for name in names}
        (work / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
        print("fleet: %d of %d instances, to end before the deadline (one instance alone took %.1f s)" % (opts.hosts, requested, solo["seconds"]))
    start = log_length()
    command = ["-i", "inventory.json", "-f", str(opts.forks), "smarttrace.sso.configure", "-e", "smarttrace_sso_hosts=fleet", "-e", "@vars.yml"]
    result, timings = play(command, work, ansible_env(work))
    entries = log_since(start)
    result.update(summarize(entries))
    state = sandbox_state()
    integrations = state["smarttrace"]["instances"]
    converged = [name for name in names if integrations.get(name, {}).get("enabled") and integrations[name].get("client_secret_set")]
    failed_hosts = sorted(host for host, recap in result["recap"].items() if recap["failed"] or recap["unreachable"])
    result.update({"hosts": opts.hosts, "forks": opts.forks, "throttle_every": state["faults"]["config"]["throttle_every"],
                   "retry_after_s": state["faults"]["config"]["retry_after"], "injected": state["faults"]["injected"],
                   "converged": len(converged), "failed_hosts": failed_hosts, "requests_per_host": round(len(entries) / opts.hosts, 1),
                   "module_tasks": sum(1 for t in timings if t["action"].startswith("smarttrace.sso.") and t["status"] != "skipped"),
                   "hosts_requested": requested, "solo": {key: solo[key] for key in ("seconds", "cpu_seconds", "total", "status_429", "kind_write", "login")}})
    ideal = opts.hosts / float(opts.forks) * solo["seconds"]
    result["parallel_ideal_s"] = round(ideal, 1)
    result["parallel_efficiency"] = round(ideal / result["seconds"], 2) if result["seconds"] else None
    spans = {}
    for timing in timings:
        span = spans.setdefault(timing["task"], {"hosts": 0, "host_seconds": 0.0, "first_start": timing["start"], "last_end": timing["end"]})
        span["hosts"] += 1
        span["host_seconds"] += timing["seconds"]
        span["first_start"], span["last_end"] = min(span["first_start"], timing["start"]), max(span["last_end"], timing["end"])
    result["slowest_tasks"] = sorted(({"task": name, "hosts": span["hosts"], "host_seconds": round(span["host_seconds"], 1),
                                       "wall_seconds": round(span["last_end"] - span["first_start"], 1)} for name, span in spans.items()),
                                     key=lambda row: -row["wall_seconds"])[:8]
    print("fleet: %d hosts, forks %d, throttle every %d: %d converged, %d failed, %.1fs, %d requests, %d answered 429 (injected %s)" % (
        opts.hosts, opts.forks, result["throttle_every"], len(converged), len(failed_hosts), result["seconds"], len(entries),
        result["status_429"], result["injected"]))
    result["cores"] = os.cpu_count()
    result["cpu_per_instance"] = cpu_per_instance(result.pop("cpu"), opts.hosts)
    result["solo"]["cpu_main_seconds"] = solo["cpu"]["main"]
    print("fleet: one instance alone %.1fs (%.1f CPU s, %d requests); parallel ideal %.1fs; efficiency %.2f; the fleet used %.1f CPU s on %d cores" % (
        solo["seconds"], solo["cpu_seconds"], solo["total"], ideal, result["parallel_efficiency"] or 0, result["cpu_seconds"], result["cores"]))
    # The audit of the converged fleet (reads only): requests per instance, in the same sandbox (same throttling).
    audit_start = log_length()
    audit, _audit_timings = play(["-i", "inventory.json", "-f", str(opts.forks), "smarttrace.sso.audit", "-e", "smarttrace_sso_hosts=fleet",
                                  "-e", "@vars.yml", "-e", "smarttrace_sso_audit_dir=%s" % (work / "audit")], work, ansible_env(work))
    audit_entries = log_since(audit_start)
    audit.update(summarize(audit_entries))
    audit["per_instance"] = round((audit["total"] - audit["status_429"] - audit["login"]) / float(opts.hosts), 2)
    report_file = work / "audit" / "audit.json"
    audit["summary"] = json.loads(report_file.read_text(encoding="utf-8"))["summary"] if report_file.exists() else None
    result["audit"] = {key: audit[key] for key in ("seconds", "rc", "total", "status_429", "login", "kind_write", "per_instance", "summary")}
    print("audit: %d instances, %.1fs, %d requests (%d answered 429, %d login), %.2f per instance without retries and login, %d writes, rc=%d" % (
        opts.hosts, audit["seconds"], audit["total"], audit["status_429"], audit["login"], audit["per_instance"], audit["kind_write"], audit["rc"]))
    write(opts.out, result)
    return 0 if result["rc"] == 0 and len(converged) == opts.hosts else 1


def cpu_per_instance(cpu, hosts):
    """Where a fleet instance's CPU seconds go: the tasks that ran one of the collection's modules (their workers, which run
    the module, and any process they started), the other tasks (templating, set_fact, assert, skipped tasks), and its share
    of ansible-playbook's main process."""
    ran_module, others = [], []
    for task in cpu["tasks"]:
        ran = task["action"].startswith("smarttrace.sso.") and task["skipped"] < task["runs"]
        (ran_module if ran else others).append(task)
    share = {"modules": sum(task["worker"] + task["children"] for task in ran_module),
             "other_tasks": sum(task["worker"] + task["children"] for task in others), "main": cpu["main"] or 0.0}
    per = {key: round(value / hosts, 3) for key, value in share.items()}
    per.update({"total": round(sum(share.values()) / hosts, 3), "main_play_seconds": round(share["main"], 1),
                "module_processes": round(sum(task["children"] for task in ran_module) / hosts, 3),  # part of "modules"
                "other_task_count": round(sum(task["runs"] for task in others) / float(hosts), 1),
                "module_tasks": [{"action": task["action"].split(".")[-1], "runs_per_instance": round(task["runs"] / float(hosts), 2),
                                  "cpu_seconds": round((task["worker"] + task["children"]) / task["runs"], 3)} for task in ran_module],
                "tasks": [{"task": task["task"].split(" : ")[-1], "runs_per_instance": round(task["runs"] / float(hosts), 2),
                           "worker": round(task["worker"] / task["runs"], 3), "children": round(task["children"] / task["runs"], 3)}
                          for task in cpu["tasks"]]})
    return per


# ---------------------------------------------------------------------------- report

def load(directory, name):
    path = pathlib.Path(directory) / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def verdict(value, limit):
    return "met" if value is not None and value <= limit else "MISSED"


def report(opts):
    role, per_task, imports, bulk, fleet = (load(opts.dir, name) for name in ("role.json", "per_task.json", "imports.json", "bulk.json", "fleet.json"))
    rows, lines = [], []
    if role:
        runs = role["runs"]
        fresh, warm, cold = runs["fresh"], runs["rerun_same_controller"], runs["rerun_new_controller"]
        rows.append(("Role, fresh tenant: requests (graph / login / smarttrace; reads / writes / actions)",
                     "%d (%d / %d / %d; %d / %d / %d) in %.1f s" % (fresh["total"], fresh["graph"], fresh["login"], fresh["smarttrace"],
                                                                    fresh["kind_read"], fresh["kind_write"], fresh["kind_action"], fresh["seconds"]),
                     "-", "-"))
        for label, run, limit, before in (("same controller, token cached", warm, TARGETS["rerun_requests"], BEFORE["rerun_requests"]),
                                          ("new controller, empty token cache", cold, TARGETS["rerun_requests_new_controller"], None)):
            counts = (run["total"], run["graph"], run["login"], run["smarttrace"], run["kind_read"], run["kind_write"], run["kind_action"])
            rows.append(("Role, unchanged re-run (%s)" % label,
                         "%d (%d / %d / %d; %d / %d / %d), changed=%d, in %.1f s%s" % (
                             counts + (run["changed"], run["seconds"], "; before: %d" % before if before else "")),
                         "<= %d requests, 0 writes" % limit,
                         "met" if run["total"] <= limit and run["kind_write"] == 0 and run["changed"] == 0 else "MISSED"))
        fresh_requests = fresh["total"] - fresh["login"]
        test_user = sum(len(task["requests"]) for task in fresh.get("requests_by_task", [])
                        if task["task"].split(" : ")[-1] == TEST_USER_TASK)  # "smarttrace.sso.entra_sso : Create the test users"
        rows.append(("Requests per fresh instance (role part: no throttling, without the login requests; a fleet instance has no test "
                     "user, the demo's test user costs the requests of '%s')" % TEST_USER_TASK,
                     "%d without test user, %d with it (%d writes); before: %d without test user" % (
                         fresh_requests - test_user, fresh_requests, fresh["kind_write"], BEFORE["fresh_instance"]),
                     "<= 13", verdict(fresh_requests - test_user, TARGETS["fresh_instance"])))
        tokens = max(run["token_requests"] for run in runs.values())
        rows.append(("Role: token requests per play by the automation identity (a new secret's proof, a token request of the SmartTrace "
                     "app, is counted apart)", "fresh %d (+%d proof), re-run cached %d, re-run new controller %d" % (
                         fresh["token_requests"], fresh.get("secret_proofs", 0), warm["token_requests"], cold["token_requests"]),
                     "<= 1", verdict(tokens, 1)))
    if per_task:
        rows.append(("Per task: entra_app_info / ansible.builtin.ping (median of %d runs, %d tasks each)" % (len(per_task["runs"]), per_task["tasks"]),
                     "%.2f (%s)" % (per_task["ratio_median"], ", ".join("%.2f" % run["ratio"] for run in per_task["runs"])),
                     "<= 1.3", verdict(per_task["ratio_median"], TARGETS["per_task_ratio"])))
        rows.append(("Per task: seconds per task (ping, entra_app_info; median of the runs' medians)", "%.3f s, %.3f s" % (
            statistics.median(run["ping_median_s"] for run in per_task["runs"]), statistics.median(run["info_median_s"] for run in per_task["runs"])),
            "-", "-"))
    if imports:
        slowest = max(imports["modules"].items(), key=lambda item: item[1]["total_ms"])
        fastest = min(imports["modules"].items(), key=lambda item: item[1]["total_ms"])
        rows.append(("Import time of a module's code (python -X importtime, median of %d)" % imports["runs"],
                     "entra_app_info %s ms; %s ms (%s) to %s ms (%s); ansible.module_utils.basic alone %s ms" % (
                         imports["modules"]["entra_app_info"]["total_ms"], fastest[1]["total_ms"], fastest[0], slowest[1]["total_ms"], slowest[0],
                         imports["ansible_module_utils_basic_ms"]), "-", "-"))
    if bulk:
        steps = {(step["run"], step["step"]): step for step in bulk["steps"]}
        first_s = steps[("first", "users")]["seconds"] + steps[("first", "assign")]["seconds"]
        rerun_s = steps[("rerun", "users")]["seconds"] + steps[("rerun", "assign")]["seconds"]
        rows.append(("%d users created and assigned: requests, wall time" % bulk["users"], "%d, %.1f s" % (bulk["first"], first_s), "<= 160",
                     verdict(bulk["first"], TARGETS["bulk_first"])))
        rows.append(("%d users, unchanged re-run: requests, wall time" % bulk["users"], "%d, %.1f s" % (bulk["rerun"], rerun_s), "<= 60",
                     verdict(bulk["rerun"], TARGETS["bulk_rerun"])))
    if fleet:
        sized = "" if fleet.get("hosts_requested", fleet["hosts"]) == fleet["hosts"] else " (of %d asked: sized to the deadline)" % fleet["hosts_requested"]
        rows.append(("Fleet: %d instances%s, forks %d, every %dth request answered 429 (Retry-After %d s)" % (
            fleet["hosts"], sized, fleet["forks"], fleet["throttle_every"], fleet["retry_after_s"]),
            "%d/%d converged, %.1f s, %d requests (%.1f per host), %d retries after 429 (%d injected, counting $batch sub-requests)" % (
                fleet["converged"], fleet["hosts"], fleet["seconds"], fleet["total"], fleet["requests_per_host"], fleet["status_429"],
                fleet["injected"]["429"]),
            "all converge", "met" if fleet["converged"] == fleet["hosts"] and not fleet["failed_hosts"] else "MISSED"))
        rows.append(("Fleet: token requests in the play by the automation identity (proofs of new secrets apart)",
                     "%d (+%d proofs)" % (fleet["token_requests"], fleet.get("secret_proofs", 0)), "<= 1", verdict(fleet["token_requests"], 1)))
        if fleet.get("parallel_efficiency") is not None:
            rows.append(("Fleet: parallel efficiency = (instances / forks x one instance's wall time) / fleet wall time, same run",
                         "%.2f (%d / %d x %.1f s = %.1f s ideal, %.1f s measured)" % (
                             fleet["parallel_efficiency"], fleet["hosts"], fleet["forks"], fleet["solo"]["seconds"], fleet["parallel_ideal_s"],
                             fleet["seconds"]), ">= 0.6", "met" if fleet["parallel_efficiency"] >= TARGETS["parallel_efficiency"] else "MISSED"))
            rows.append(("Fleet: CPU time of ansible-playbook and its processes (one instance alone; the fleet) on %d cores" % fleet["cores"],
                         "%.1f s; %.1f s, so the CPU bound of the fleet's wall time is %.1f s" % (
                             fleet["solo"]["cpu_seconds"], fleet["cpu_seconds"], fleet["cpu_seconds"] / fleet["cores"]), "-", "-"))
        if fleet.get("cpu_per_instance"):
            cpu = fleet["cpu_per_instance"]
            rows.append(("Fleet: CPU seconds per instance, by where they go (callback bench_cpu: each worker process's own CPU time and its "
                         "children's; a module runs in the worker, or in a process of its own the worker starts)",
                         "%.2f: %d module tasks %.2f (%s; processes they started %.2f), %.0f other tasks %.2f, ansible-playbook's main process "
                         "%.2f (%.1f s for the play)" % (
                             cpu["total"], len(cpu["module_tasks"]), cpu["modules"],
                             ", ".join("%s %.2f" % (module["action"], module["cpu_seconds"]) for module in cpu["module_tasks"]),
                             cpu["module_processes"], cpu["other_task_count"], cpu["other_tasks"], cpu["main"], cpu["main_play_seconds"]), "-", "-"))
        if fleet.get("audit"):
            audit = fleet["audit"]
            rows.append(("Audit of the fleet (smarttrace.sso.audit, reads only): requests per instance under the fleet's throttling (without login "
                         "and 429 answers; a throttled $batch sub-request is sent again; 5 without throttling, asserted by the audit integration target)",
                         "%.1f (%d in all, %d answered 429, %d writes) in %.1f s; %s" % (
                             audit["per_instance"], audit["total"], audit["status_429"], audit["kind_write"], audit["seconds"],
                             ", ".join("%d %s" % (count, state) for state, count in sorted((audit["summary"] or {}).get("counts", {}).items()))),
                         "0 writes", "met" if audit["kind_write"] == 0 and audit["rc"] == 0 else "MISSED"))
        slowest_task = fleet["slowest_tasks"][0]
        rows.append(("Fleet: the task with the longest wall time", "%s: %.1f s of %.1f s" % (
            slowest_task["task"].split(" : ")[-1], slowest_task["wall_seconds"], fleet["seconds"]), "-", "-"))
    figures = {"generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "targets": TARGETS,
               "role": role, "per_task": per_task, "imports": imports, "bulk_users": bulk, "fleet": fleet}
    write(opts.json, figures)
    lines.append("| Measurement | Result | Target | |")
    lines.append("|---|---|---|---|")
    lines.extend("| %s | %s | %s | %s |" % row for row in rows)
    table = "\n".join(lines)
    markdown = pathlib.Path(opts.markdown)
    text = markdown.read_text(encoding="utf-8") if markdown.exists() else ""
    begin, end = "<!-- bench:table -->", "<!-- /bench:table -->"
    if begin in text and end in text:
        text = text[:text.index(begin) + len(begin)] + "\n" + table + "\n" + text[text.index(end):]
    else:
        text = "# Performance\n\n%s\n%s\n%s\n" % (begin, table, end) + text
    markdown.write_text(text, encoding="utf-8")
    print(table)
    missing = [name for name, data in (("role", role), ("per_task", per_task), ("imports", imports), ("bulk", bulk), ("fleet", fleet)) if not data]
    if missing:
        print("not measured (a part failed, see above): %s" % ", ".join(missing))
    return 1 if missing else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("role", "per-task", "imports", "fleet"):
        part = sub.add_parser(name)
        part.add_argument("--out", required=True)
        part.add_argument("--tasks", type=int, default=10)
        part.add_argument("--runs", type=int, default=5)
        part.add_argument("--hosts", type=int, default=50)
        part.add_argument("--forks", type=int, default=10)
        part.add_argument("--deadline", type=float, default=0,
                          help="epoch seconds by which the part should end (fleet: sizes the fleet; per-task: no run starts after it)")
    part = sub.add_parser("report")
    part.add_argument("--dir", required=True)
    part.add_argument("--json", required=True)
    part.add_argument("--markdown", required=True)
    opts = parser.parse_args(argv)
    return {"role": bench_role, "per-task": bench_per_task, "imports": bench_imports, "fleet": bench_fleet, "report": report}[opts.command](opts)


if __name__ == "__main__":
    sys.exit(main())
