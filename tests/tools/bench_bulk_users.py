"""Benchmark (not a test): HTTP requests for creating N users and assigning them to an app, and for the unchanged re-run.

Run against a sandbox started for it (takes about a minute for 1,000 users):

    make tree
    PYTHON=.venv/bin/python tests/tools/with_sandbox.sh .build/sandbox-bench -- \
        .venv/bin/python tests/tools/bench_bulk_users.py --users 1000

Each step is its own ``ansible-playbook`` run with an empty token cache (so each pays its 2 login requests, the
worst case); its requests are counted in the sandbox's request log (``login`` and ``graph`` surfaces: every HTTP request the collection makes; a ``$batch``
counts once, its sub-requests are shown apart). Limits checked: creating and assigning the users (the
``entra_user`` and ``entra_assignment`` steps of the first run) at most 160 requests, the unchanged re-run of
both at most 60. Exit status 1 when a limit is exceeded or a step fails.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

FIRST_RUN_LIMIT = 160
RERUN_LIMIT = 60

HEADER = """- hosts: localhost
  gather_facts: false
  vars_files: [vars.json]
  module_defaults:
    group/smarttrace.sso.entra:
      tenant_id: "{{ entra_tenant_id }}"
      client_id: "{{ entra_client_id }}"
      client_secret: "{{ entra_client_secret }}"
      authority_url: "{{ entra_authority_url }}"
      graph_url: "{{ entra_graph_url }}"
      ca_path: "{{ entra_ca_path }}"
  tasks:
"""
STEPS = {
    "app": """    - name: The app users are assigned to
      smarttrace.sso.entra_app:
        display_name: st-sso-bench
        app_roles: [{value: SmartTrace.User}]
        app_role_assignment_required: true
      register: app
    - name: Keep its app_id for the next steps
      ansible.builtin.copy:
        content: "{{ {'bench_app_id': app.app_id} | to_json }}"
        dest: app.json
        mode: "0600"
""",
    "users": """    - name: Create the users
      smarttrace.sso.entra_user:
        password: "Kq7#st-sso-bench-Lw2!Vz"
        users: "{{ bench_users }}"
""",
    "assign": """    - name: Assign the users
      smarttrace.sso.entra_assignment:
        app_id: "{{ bench_app_id }}"
        role: SmartTrace.User
        users: "{{ bench_upns }}"
""",
}


def log_entries(log_path):
    with open(log_path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def count(entries):
    http = [entry for entry in entries if entry.get("surface") in ("login", "graph")]
    sub = sum(len((entry.get("body") or {}).get("requests") or []) for entry in http if entry["path"].rstrip("/") == "/v1.0/$batch")
    batches = sum(1 for entry in http if entry["path"].rstrip("/") == "/v1.0/$batch")
    return {"http": len(http), "login": sum(1 for entry in http if entry["surface"] == "login"), "batch": batches, "batched_sub_requests": sub}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--json", help="also write the figures (requests and seconds per step) to this JSON file")
    parser.add_argument("--collections", default=str(pathlib.Path(__file__).resolve().parents[2] / ".build" / "collections"))
    args = parser.parse_args()
    endpoint = json.loads(pathlib.Path(os.environ["SANDBOX_ENDPOINT"]).read_text(encoding="utf-8"))
    log_path = pathlib.Path(os.environ["SANDBOX_STATE"]) / "requests.jsonl"
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-bulk-users-"))
    domain = endpoint["domains"][0]
    variables = {"entra_" + key: endpoint[key] for key in ("tenant_id", "client_id", "client_secret", "authority_url", "graph_url")}
    variables["entra_ca_path"] = endpoint["ca"]
    variables["bench_upns"] = ["st-sso-bench-%04d@%s" % (index, domain) for index in range(args.users)]
    variables["bench_users"] = [{"user_principal_name": upn} for upn in variables["bench_upns"]]
    (work / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
    playbook_bin = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
    figures = {}
    for run, steps in (("first", ("app", "users", "assign")), ("rerun", ("users", "assign"))):
        for step in steps:
            playbook = work / ("%s.yml" % step)
            playbook.write_text(HEADER + STEPS[step], encoding="utf-8")
            env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections, SMARTTRACE_SSO_TOKEN_CACHE_DIR=tempfile.mkdtemp(dir=str(work)),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
            before = len(log_entries(log_path)) if log_path.exists() else 0
            started = time.monotonic()
            done = subprocess.run([playbook_bin, str(playbook)], cwd=str(work), env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
                print("step %s of the %s run failed" % (step, run))
                return 1
            figures[(run, step)] = count(log_entries(log_path)[before:])
            figures[(run, step)]["seconds"] = round(time.monotonic() - started, 2)
            if step == "app":
                variables.update(json.loads((work / "app.json").read_text(encoding="utf-8")))
                (work / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
    print("%d users, requests per step (HTTP requests; a $batch counts once):" % args.users)
    for (run, step), figure in figures.items():
        print("  %-6s %-7s %4d HTTP (%d login, %d $batch carrying %d sub-requests)" % (
            run, step, figure["http"], figure["login"], figure["batch"], figure["batched_sub_requests"]))
    first = figures[("first", "users")]["http"] + figures[("first", "assign")]["http"]
    rerun = figures[("rerun", "users")]["http"] + figures[("rerun", "assign")]["http"]
    print("created and assigned: %d requests (limit %d); unchanged re-run: %d requests (limit %d)" % (first, FIRST_RUN_LIMIT, rerun, RERUN_LIMIT))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({
            "users": args.users, "steps": [dict(figure, run=run, step=step) for (run, step), figure in figures.items()],
            "first": first, "first_limit": FIRST_RUN_LIMIT, "rerun": rerun, "rerun_limit": RERUN_LIMIT}, indent=2) + "\n", encoding="utf-8")
    return 0 if first <= FIRST_RUN_LIMIT and rerun <= RERUN_LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
