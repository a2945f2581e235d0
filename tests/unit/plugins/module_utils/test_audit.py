# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's decisions (_audit.instance_findings) and its reports (_audit_report): healthy, drifted, expiring, broken."""

import copy
import json
import re
from html.parser import HTMLParser

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._audit.findings import instance_findings, summary
from ansible_collections.smarttrace.sso.plugins.module_utils._audit.report import render

REDIRECT = "https://api.smarttrace.ai/v1/auth/callback/azure/acme"
LOGOUT = "https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme"
APP_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
HELD = "aa11bb22-cc33-4d44-8e55-ff6677889900"
OLDER = "0a11bb22-cc33-4d44-8e55-ff6677889900"


def secret(key_id, days, start="2026-06-01T00:00:00Z", end=None, name="SmartTrace SSO"):
    return {"key_id": key_id, "display_name": name, "hint": "Qx7", "start": start, "end": end or "2027-%02d-01T00:00:00Z" % (1 + days % 12),
            "days_left": days, "expired": days < 0}


def entra(secrets=None, **app):
    view = {"display_name": "SmartTrace", "unique_name": "smarttrace-sso-acme", "app_id": APP_ID, "redirect_uris": [REDIRECT], "logout_url": LOGOUT,
            "id_token_issuance": False, "app_role_assignment_required": True,
            "credentials": {"secrets": [secret(HELD, 170)] if secrets is None else secrets, "certificates": []}}
    view.update(app)
    return {"changed": False, "found": True, "app": view, "owners": [{"id": "u1", "type": "user", "display_name": "Ada Admin"}],
            "assigned": [{"principal_id": "g1", "principal_type": "Group", "display_name": "SmartTrace Users", "app_role": "Default Access"}]}


def smarttrace(ok=True, **integration):
    view = {"instance": "acme", "enabled": True, "application_id": APP_ID, "client_secret_set": True, "client_secret_id": HELD,
            "client_secret_hint": "Qx7", "redirect_uri": REDIRECT, "logout_uri": LOGOUT}
    view.update(integration)
    return {"changed": False, "configured": view["client_secret_set"], "integration": view,
            "verification": {"ok": ok, "error": None if ok else "AADSTS7000215: Invalid client secret provided.", "attempts": 1, "waited": 0.0}}


EXPECTED = {"assign_groups": ["SmartTrace Users"], "rotate_before_days": 30}


def messages(row):
    return [(item["severity"], item["check"], item["message"]) for item in row["findings"]]


def test_healthy_instance_has_no_findings():
    row = instance_findings("acme", entra(), smarttrace(), EXPECTED)
    assert row["state"] == "ok" and row["findings"] == []
    assert row["test"] == "passed"
    assert row["secrets"] == [{"key_id": HELD, "hint": "Qx7", "display_name": "SmartTrace SSO", "end": "2027-03-01T00:00:00Z", "days_left": 170,
                               "expired": False, "held_by_smarttrace": True, "newest": True, "severity": "ok"}]
    assert row["owners"][0]["display_name"] == "Ada Admin"


def test_drift_names_the_variable_and_is_a_warning():
    row = instance_findings("acme", entra(id_token_issuance=True, logout_url=None, app_role_assignment_required=False), smarttrace(), EXPECTED)
    assert row["state"] == "warning"
    text = " | ".join(message for _severity, _check, message in messages(row))
    assert "ID token issuance is on, the role sets off (smarttrace_sso_id_token_issuance)" in text
    assert "assignment required is off, the role sets on (smarttrace_sso_assignment_required)" in text
    assert "front-channel logout URL is not set, the guide requires %s" % LOGOUT in text


def test_missing_redirect_uri_is_critical_and_an_unassigned_group_is_drift():
    app = entra(redirect_uris=["https://elsewhere.example.com/cb"])
    app["assigned"] = []
    row = instance_findings("acme", app, smarttrace(), EXPECTED)
    assert row["state"] == "critical"
    assert messages(row)[0][:2] == ("critical", "redirect uri")
    assert ("warning", "drift", "group SmartTrace Users is not assigned (smarttrace_sso_assign_groups): run smarttrace.sso.configure") in messages(row)
    assert any(check == "assignments" for _severity, check, _message in messages(row))


@pytest.mark.parametrize("days, state", [(30, "ok"), (29, "warning"), (7, "warning"), (6, "critical"), (0, "critical"), (-3, "critical")])
def test_the_held_secrets_days_left_decide_the_state(days, state):
    row = instance_findings("acme", entra([secret(HELD, days)]), smarttrace(), EXPECTED)
    assert row["state"] == state
    assert row["secrets"][0]["severity"] == state


def test_an_older_secret_near_expiry_is_listed_not_alarmed():
    secrets = [secret(OLDER, 2, start="2026-01-01T00:00:00Z", end="2026-12-07T00:00:00Z"), secret(HELD, 170)]
    row = instance_findings("acme", entra(secrets), smarttrace(), EXPECTED)
    assert row["state"] == "ok"
    assert [(item["key_id"], item["severity"], item["newest"]) for item in row["secrets"]] == [(OLDER, "ok", False), (HELD, "ok", True)]


def test_smarttrace_holding_a_deleted_secret_is_critical():
    row = instance_findings("acme", entra([secret(OLDER, 170)]), smarttrace(ok=False), EXPECTED)
    assert row["state"] == "critical"
    checks = dict((check, message) for _severity, check, message in messages(row))
    assert "which does not exist in Entra ID (deleted)" in checks["smarttrace secret"]
    assert "AADSTS7000215" in checks["smarttrace test"]


def test_smarttrace_not_holding_the_newest_secret_is_a_warning():
    secrets = [secret(HELD, 100, end="2027-03-01T00:00:00Z"), secret(OLDER, 170, end="2027-05-01T00:00:00Z")]
    row = instance_findings("acme", entra(secrets), smarttrace(), EXPECTED)
    assert row["state"] == "warning"
    assert "not the newest one" in dict((check, message) for _s, check, message in messages(row))["smarttrace secret"]


def test_failed_reads_and_a_missing_app_are_critical():
    failed = {"failed": True, "msg": "SmartTrace answered 404: instance not found"}
    row = instance_findings("nowhere", {"changed": False, "found": False, "app": None, "owners": [], "assigned": []}, failed, EXPECTED)
    assert row["state"] == "critical"
    assert [check for _severity, check, _message in messages(row)] == ["smarttrace read", "app"]
    # failed_when: false keeps failed false but the result lacks its keys
    row = instance_findings("nowhere", {"failed": False, "msg": "Graph answered 403"}, smarttrace(), EXPECTED)
    assert messages(row)[0] == ("critical", "entra read", "reading the app failed: Graph answered 403")


def test_never_configured_in_smarttrace():
    row = instance_findings("acme", entra(), smarttrace(client_secret_set=False, client_secret_id=None, enabled=False), EXPECTED)
    assert row["state"] == "critical"
    assert "SmartTrace holds no client secret" in " ".join(message for _s, _c, message in messages(row))


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.tags = [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "tr" and dict(attrs).get("data-instance"):
            self.rows.append((dict(attrs)["data-instance"], dict(attrs)["class"]))


def _fleet():
    broken = instance_findings("initech", entra([secret(OLDER, 170)]), smarttrace(ok=False), EXPECTED)
    drifted = instance_findings("globex", entra(id_token_issuance=True), smarttrace(), EXPECTED)
    return [broken, instance_findings("acme", entra(), smarttrace(), EXPECTED), drifted]


def test_html_is_one_self_contained_table_row_per_instance_coloured_by_state():
    html = render(_fleet(), "html", "2026-12-05T00:00:00Z")
    parser = _Rows()
    parser.feed(html)
    assert parser.rows == [("acme", "ok"), ("globex", "warning"), ("initech", "critical")]
    assert not parser.tags & {"script", "link", "img", "iframe"} and "url(" not in html
    assert "3 instances: <b>1 ok</b>, <b>1 warning</b>, <b>1 critical</b>" in html


def test_html_escapes_what_it_shows():
    row = instance_findings("<b>x</b>", entra(display_name="<script>alert(1)</script>"), smarttrace(), EXPECTED)
    html = render([row], "html", "now")
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_markdown_and_json_reports():
    rows = _fleet()
    markdown = render(rows, "markdown", "2026-12-05T00:00:00Z")
    assert "| acme | OK | 0 | 170* | passed | 1 |" in markdown
    assert "## initech: CRITICAL" in markdown and "- **CRITICAL**: smarttrace secret: SmartTrace holds client secret" in markdown
    document = json.loads(render(rows, "json", "2026-12-05T00:00:00Z"))
    assert document["summary"] == summary(rows) == {"instances": 3, "counts": {"ok": 1, "warning": 1, "critical": 1}, "state": "critical"}
    assert [row["instance"] for row in document["instances"]] == ["acme", "globex", "initech"]
    with pytest.raises(ValueError, match="format must be one of html, json, markdown"):
        render(rows, "pdf", "now")


def test_reports_hold_secret_metadata_only():
    app = entra()
    app["app"]["credentials"]["secrets"][0]["secret_text"] = "abc1Q~never-shown"  # not that Graph would return it
    rows = [instance_findings("acme", copy.deepcopy(app), smarttrace(), EXPECTED)]
    for output_format in ("markdown", "html", "json"):
        assert not re.search("Q~", render(rows, output_format, "now"))
