# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's decisions: findings of one SmartTrace instance from what was read (never written).

``instance_findings`` takes the results of ``entra_sso_audit_info`` and ``smarttrace_integration_info`` (``verify: true``)
and what the role ``entra_sso`` would set (its variables), and returns the instance's row of the report: its facts, its
findings (``critical`` or ``warning``, each naming the check and what to do) and its state (the worst finding, else ``ok``).
Secret metadata only (key id, hint, end date): the inputs hold no secret value and nothing here would add one.
Rendering (Markdown, HTML, JSON) is in ``_audit/report.py``.
"""

SEVERITIES = ("ok", "warning", "critical")
CRITICAL_DAYS = 7
DEFAULT_EXPECTED = {"display_name": "SmartTrace", "redirect_uri": "", "logout_url": "", "id_token_issuance": False,
                    "assignment_required": True, "assign_users": [], "assign_groups": [], "secret_display_name": "SmartTrace SSO",
                    "rotate_before_days": 30}


def worst(severities):
    return max(list(severities) + ["ok"], key=SEVERITIES.index)


def _finding(severity, check, message):
    return {"severity": severity, "check": check, "message": message}


def _failure(result, key):
    """The error of a failed read (a registered result, failed or with ``failed_when: false``: it lacks ``key``), else None."""
    if not result:
        return "not read"
    if result.get("failed") or key not in result:
        return result.get("msg") or "failed"
    return None


def secret_rows(secrets, smarttrace_key_id, display_name, rotate_before_days):
    """The app's client secrets with days left, which one SmartTrace holds, which is the newest of ``display_name``,
    and a severity for each: critical inside 7 days or expired, warning inside ``rotate_before_days`` (for the one
    SmartTrace holds, else the newest; an older secret's expiry is only listed)."""
    mine = [secret for secret in secrets if secret.get("display_name") == display_name] or list(secrets)
    newest = max(mine, key=lambda secret: (secret.get("end") or "", secret.get("start") or "")) if mine else None
    held = (smarttrace_key_id or "").lower()
    watched = [secret for secret in secrets if (secret.get("key_id") or "").lower() == held] or ([newest] if newest else [])
    rows = []
    for secret in sorted(secrets, key=lambda item: item.get("end") or ""):
        days = secret.get("days_left")
        severity = "ok"
        if secret in watched:
            if days is None or days < CRITICAL_DAYS or secret.get("expired"):
                severity = "critical"
            elif days < rotate_before_days:
                severity = "warning"
        rows.append({"key_id": secret.get("key_id"), "hint": secret.get("hint"), "display_name": secret.get("display_name"),
                     "end": secret.get("end"), "days_left": days, "expired": bool(secret.get("expired")),
                     "held_by_smarttrace": bool(held) and (secret.get("key_id") or "").lower() == held,
                     "newest": secret is newest, "severity": severity})
    return rows


def _secret_findings(rows, integration, rotate_before_days):
    findings = []
    for row in rows:
        label = "client secret %s (hint %s, ends %s)" % (row["key_id"], row["hint"] or "-", row["end"])
        if row["severity"] == "critical":
            when = "has expired" if row["expired"] else "expires in %s days" % row["days_left"]
            findings.append(_finding("critical", "secret expiry", "%s %s: rotate it now (playbook smarttrace.sso.rotate_secret)" % (label, when)))
        elif row["severity"] == "warning":
            findings.append(_finding("warning", "secret expiry", "%s expires in %d days, inside rotate_before_days (%d): rotate it "
                                     "(playbook smarttrace.sso.rotate_secret)" % (label, row["days_left"], rotate_before_days)))
    if not integration.get("client_secret_set"):
        findings.append(_finding("critical", "smarttrace secret", "SmartTrace holds no client secret: run smarttrace.sso.configure for the instance"))
    elif not integration.get("client_secret_id"):
        findings.append(_finding("warning", "smarttrace secret", "SmartTrace holds a secret without its Secret ID, so the audit cannot tell "
                                 "which Entra secret it is: rotate it with smarttrace.sso.rotate_secret"))
    elif not any(row["held_by_smarttrace"] for row in rows):
        findings.append(_finding("critical", "smarttrace secret", "SmartTrace holds client secret %s, which does not exist in Entra ID (deleted): "
                                 "rotate it (smarttrace.sso.rotate_secret)" % integration["client_secret_id"]))
    elif not any(row["held_by_smarttrace"] and row["newest"] for row in rows):
        findings.append(_finding("warning", "smarttrace secret", "SmartTrace holds client secret %s, not the newest one: give SmartTrace the "
                                 "newest (smarttrace.sso.rotate_secret) or remove the newer one" % integration["client_secret_id"]))
    return findings


def _drift(app, expected, integration):
    """Settings that differ from what the role would set; each a warning naming the variable."""
    findings = []
    redirect = expected.get("redirect_uri") or integration.get("redirect_uri")
    logout = expected.get("logout_url") or integration.get("logout_uri")
    if redirect and redirect not in (app.get("redirect_uris") or []):
        findings.append(_finding("critical", "redirect uri", "the Redirect URI %s that SmartTrace signs in with is not a Web redirect URI of the "
                                 "app (it has %s): sign-in fails; run smarttrace.sso.configure" % (
                                     redirect, ", ".join(app.get("redirect_uris") or []) or "none")))
    if logout and app.get("logout_url") != logout:
        findings.append(_finding("warning", "logout url", "front-channel logout URL is %s, the guide requires %s (smarttrace_sso_logout_url): "
                                 "run smarttrace.sso.configure" % (app.get("logout_url") or "not set", logout)))
    checks = (("id_token_issuance", "id_token_issuance", "ID token issuance", "smarttrace_sso_id_token_issuance"),
              ("app_role_assignment_required", "assignment_required", "assignment required", "smarttrace_sso_assignment_required"),
              ("display_name", "display_name", "display name", "smarttrace_sso_app_display_name"))
    for field, wanted, label, variable in checks:
        if expected.get(wanted) is not None and app.get(field) != expected[wanted]:
            findings.append(_finding("warning", "drift", "%s is %s, the role sets %s (%s): run smarttrace.sso.configure or change the variable" % (
                label, _text(app.get(field)), _text(expected[wanted]), variable)))
    return findings


def _text(value):
    return {True: "on", False: "off", None: "not set"}.get(value, value) if isinstance(value, (bool, type(None))) else str(value)


def _assignment_findings(assigned, expected, assignment_required):
    findings = []
    present = set(((item.get("principal_type") or "").lower(), (item.get("display_name") or "").lower()) for item in assigned)
    for kind, variable in (("group", "assign_groups"), ("user", "assign_users")):
        for name in expected.get(variable) or []:
            short = name.split("@")[0].lower() if kind == "user" else name.lower()
            if not any(present_kind == kind and present_name in (name.lower(), short) for present_kind, present_name in present):
                findings.append(_finding("warning", "drift", "%s %s is not assigned (smarttrace_sso_%s): run smarttrace.sso.configure" % (
                    kind, name, variable)))
    if assignment_required and not assigned:
        findings.append(_finding("warning", "assignments", "assignment is required and nobody is assigned: nobody can sign in"))
    return findings


def instance_findings(instance, entra, smarttrace, expected=None):
    """One instance's row of the report (see the module docstring)."""
    expected = dict(DEFAULT_EXPECTED, **dict((key, value) for key, value in (expected or {}).items() if value is not None))
    row = {"instance": instance, "app": None, "owners": [], "assigned": [], "secrets": [], "smarttrace": None, "test": "not run", "findings": []}
    findings = row["findings"]
    entra_error, smarttrace_error = _failure(entra, "found"), _failure(smarttrace, "integration")
    if entra_error:
        findings.append(_finding("critical", "entra read", "reading the app failed: %s" % entra_error))
    if smarttrace_error:
        findings.append(_finding("critical", "smarttrace read", "reading SmartTrace's integration failed: %s" % smarttrace_error))
    integration = {} if smarttrace_error else (smarttrace.get("integration") or {})
    if not smarttrace_error:
        verification = smarttrace.get("verification")
        shown = ("enabled", "application_id", "client_secret_set", "client_secret_id", "client_secret_hint", "redirect_uri", "logout_uri")
        row["smarttrace"] = dict((key, integration.get(key)) for key in shown)
        if verification is not None:
            row["test"] = "passed" if verification.get("ok") else "failed"
            if not verification.get("ok"):
                findings.append(_finding("critical", "smarttrace test", "SmartTrace's sign-in test failed: %s" % (
                    verification.get("error") or "no reason given")))
        if integration and not integration.get("enabled"):
            findings.append(_finding("critical", "smarttrace", "single sign-on is off in SmartTrace: run smarttrace.sso.configure"))
    if not entra_error:
        if not entra.get("found"):
            findings.append(_finding("critical", "app", "the instance's app does not exist in Entra ID: run smarttrace.sso.configure"))
        else:
            app = entra["app"]
            row.update(app=dict((key, app.get(key)) for key in app if key != "credentials"), owners=entra.get("owners") or [],
                       assigned=entra.get("assigned") or [])
            findings.extend(_drift(app, expected, integration))
            findings.extend(_assignment_findings(row["assigned"], expected, app.get("app_role_assignment_required")))
            if integration.get("application_id") and integration["application_id"] != app.get("app_id"):
                findings.append(_finding("critical", "smarttrace app", "SmartTrace holds Application ID %s, the app's is %s: run smarttrace.sso.configure" % (
                    integration["application_id"], app.get("app_id"))))
            row["secrets"] = secret_rows(app["credentials"]["secrets"], integration.get("client_secret_id"), expected["secret_display_name"],
                                         expected["rotate_before_days"])
            if not smarttrace_error:
                findings.extend(_secret_findings(row["secrets"], integration, expected["rotate_before_days"]))
    findings.sort(key=lambda item: -SEVERITIES.index(item["severity"]))
    row["state"] = worst(item["severity"] for item in findings)
    return row


def summary(rows):
    counts = dict((severity, sum(1 for row in rows if row["state"] == severity)) for severity in SEVERITIES)
    return {"instances": len(rows), "counts": counts, "state": worst(row["state"] for row in rows)}
