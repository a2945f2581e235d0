# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters smarttrace.sso.sso_audit_findings and sso_audit_report: what they accept and the errors they give."""

import importlib

import pytest


@pytest.fixture(autouse=True)
def plugins(undo_controller_mark):  # pylint: disable=unused-argument
    """The filters import controller code (ansible.errors), which marks the process as the controller: they are imported
    inside each test, and the mark undone after it (undo_controller_mark), so the module tests collected beside these still
    run as modules."""
    global AnsibleFilterError, findings_plugin, report_plugin  # pylint: disable=global-statement
    AnsibleFilterError = importlib.import_module("ansible.errors").AnsibleFilterError
    findings_plugin = importlib.import_module("ansible_collections.smarttrace.sso.plugins.filter.sso_audit_findings")
    report_plugin = importlib.import_module("ansible_collections.smarttrace.sso.plugins.filter.sso_audit_report")
    yield


AnsibleFilterError = findings_plugin = report_plugin = None


def test_the_filters_are_registered():
    assert "sso_audit_findings" in findings_plugin.FilterModule().filters()
    assert "sso_audit_report" in report_plugin.FilterModule().filters()


def test_findings_need_registered_results():
    with pytest.raises(AnsibleFilterError, match="smarttrace must be a dict"):
        findings_plugin.sso_audit_findings("acme", {}, "not a result")


def test_a_failed_read_is_a_row_not_an_error():
    row = findings_plugin.sso_audit_findings("acme", {"failed": True, "msg": "Graph answered 403"}, {"failed": True, "msg": "SmartTrace answered 401"})
    assert row["state"] == "critical" and [item["check"] for item in row["findings"]] == ["entra read", "smarttrace read"]


def test_report_errors_name_the_fix():
    with pytest.raises(AnsibleFilterError, match="the input must be the list of rows"):
        report_plugin.sso_audit_report({"instance": "acme"})
    row = findings_plugin.sso_audit_findings("acme", {"failed": True, "msg": "x"}, {"failed": True, "msg": "y"})
    with pytest.raises(AnsibleFilterError, match="format must be one of html, json, markdown"):
        report_plugin.sso_audit_report([row], "pdf")
    assert report_plugin.sso_audit_report([row], "markdown", "now").startswith("# SmartTrace single sign-on audit")
