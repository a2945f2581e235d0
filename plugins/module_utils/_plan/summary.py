# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role ``entra_sso``'s summary, the fact ``smarttrace_sso_summary``: ids, URIs, the secret in use, who is assigned, what
the run changed (in check mode: would change) and SmartTrace's test. It never holds a secret.

``run_summary`` takes what the role's steps registered, gathered by ``roles/entra_sso/tasks/summary.yml`` (the filter
``smarttrace.sso.entra_sso_summary``). A registered result counts only when its step belongs to this run's path: with
``include_role`` in a loop, a step skipped for this instance keeps the result an earlier instance registered, so what
the plan decided (``mint``, ``state``, ``configure_smarttrace``) says which results are this run's. Pure: no request.
"""

DEFAULT_ACCESS = "Default Access"


def _changed(result):
    return bool((result or {}).get("changed"))


def _names(items):
    return [item["name"] for item in items]


def secret_in_use(run):
    """The secret in use after the run: the one minted now, else the one SmartTrace holds (or, without SmartTrace API access,
    the healthy secret of this name that expires last); {} when there is none."""
    plan, secret = run["plan"], run.get("secret") or {}
    if run["mint"] and run["state"] == "present":
        key_id = secret.get("key_id")
        return {"key_id": plan["known_after_run"] if key_id is None else key_id, "end_date": secret.get("end_date"),
                "days_left": secret.get("days_left"), "minted_now": True}
    if run["configure_smarttrace"]:
        candidates = [item for item in plan["our_secrets"] if item["key_id"] == plan["held_key_id"]]
    else:
        # ascending by expiry, then reversed: for secrets with the same expiry, the later one in the plan's list first
        candidates = list(reversed(sorted(plan["healthy_secrets"], key=lambda item: item["end_date"])))
    return dict(candidates[0], minted_now=False) if candidates else {}


def assigned(run, principal_type):
    """The names assigned after the run, from what entra_assignment returned (every assignment of the app; in check mode,
    predicted); [] for an app created in this run that nobody was assigned to; None when this run read no assignments."""
    assignments = run.get("assignments") or {}
    if "assignments" in assignments:
        return _names(item for item in assignments["assignments"] if item["principal_type"] == principal_type)
    return [] if not run["plan"]["app_found"] else None


def changes(run, in_use):
    """What this run changed, one text per step, in the order of the steps."""
    plan, absent = run["plan"], run["state"] == "absent"
    done = []
    if _changed(run.get("app")):
        done.append("app registration " + ("deleted" if absent else "updated" if plan["app_found"] else "created"))
    users = [user for user in (run.get("users") or {}).get("users", []) if user.get("changed")]
    for action in ("created", "updated", "deleted"):
        upns = [user["user_principal_name"] for user in users if user.get("action") == action]
        if upns:
            done.append("test users %s: %s" % (action, ", ".join(upns)))
    assignments = {} if absent else run.get("assignments") or {}
    for key, text in (("added", "assigned"), ("removed", "unassigned")):
        if assignments.get(key):
            done.append("%s: %s" % (text, ", ".join(_names(assignments[key]))))
    if run["mint"] and not absent:
        done.append("client secret minted: %s" % in_use.get("key_id", plan["known_after_run"]))
    if run["configure_smarttrace"] and (_changed(run.get("saved_integration")) or (run["check_mode"] and run["mint"] and not absent)):
        done.append("SmartTrace integration " + ("removed" if absent else "saved with the new secret"))
    if not absent and not run["configure_smarttrace"] and _changed(run.get("handover_written")):
        done.append("hand-over file written: %s" % run["handover_file"])
    retired = [] if absent else (run.get("retired") or {}).get("removed_key_ids", [])
    if retired:
        done.append("client secrets retired: %s" % ", ".join(retired))
    return done


def smarttrace_test(run):
    """SmartTrace's test as the summary reports it: passed, failed, or why it did not run."""
    if run["check_mode"] and run["mint"]:
        return "not run (check mode)"
    if run["state"] == "absent":
        return "not run (offboarded)"
    verification = (run.get("saved_integration") or {}).get("verification") if run["mint"] else run["plan"].get("verification")
    return "passed" if (verification or {}).get("ok") else "failed"


def run_summary(run):
    """``smarttrace_sso_summary`` from ``run`` (the keys summary.yml gathers; registered results may be {} or skipped)."""
    plan, absent, app = run["plan"], run["state"] == "absent", run.get("app") or {}
    in_use = secret_in_use(run)
    if run["configure_smarttrace"]:
        smarttrace = {"configured_by_this_role": True, "test": smarttrace_test(run)}
    else:
        secret_text = ("in " + run["handover_file"]) if run["mint"] else "unchanged: SmartTrace keeps the secret it has"
        smarttrace = {"configured_by_this_role": False,
                      "handover_file": run["handover_file"] if run["mint"] and not absent else None,
                      "paste": {"APPLICATION ID": app.get("app_id"), "TENANT ID": run["tenant_id"], "APPLICATION (CLIENT) SECRET": secret_text}}
    return {
        "instance": run["instance"],
        "state": run["state"],
        "check_mode": run["check_mode"],
        "tenant_id": run["tenant_id"],
        "application": {} if absent else {
            "display_name": run["app_display_name"], "unique_name": run["unique_name"], "app_id": app.get("app_id"),
            "object_id": app.get("object_id"), "service_principal_id": app.get("service_principal_id"),
            "redirect_uri": run["redirect_uri"], "logout_url": run["logout_url"]},
        "client_secret": {} if absent else {
            "display_name": run["secret_display_name"], "key_id": in_use.get("key_id"), "expires": in_use.get("end_date"),
            "days_left": in_use.get("days_left"), "minted_in_this_run": in_use.get("minted_now", False),
            "retired_key_ids": (run.get("retired") or {}).get("removed_key_ids", [])},
        "test_users": plan["test_upns"],
        "assigned": {} if absent else {
            "users": assigned(run, "User"), "groups": assigned(run, "Group"), "app_role": run["app_role"] or DEFAULT_ACCESS},
        "changed": changes(run, in_use),
        "smarttrace": smarttrace,
    }
