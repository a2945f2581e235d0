# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: sso_audit_report
short_description: The audit report of SmartTrace instances as Markdown, self-contained HTML or JSON
version_added: 0.1.0
description:
  - Takes the rows made by P(smarttrace.sso.sso_audit_findings#filter) and returns the report as text, instances in name order.
  - The HTML report is one file with no external assets and no script, a table with one row per instance coloured by its state
    (green ok, amber warning, red critical), each row's findings and facts beside it.
  - Secret metadata only (key ID, hint, end date); never a secret value.
positional: format, generated
options:
  _input:
    description: The instances' rows.
    type: list
    elements: dict
    required: true
  format:
    description: The report's format.
    type: str
    choices: [markdown, html, json]
    default: markdown
  generated:
    description: When the report was made, as shown in it.
    type: str
    default: ""
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Write the HTML report
  ansible.builtin.copy:
    content: "{{ rows | smarttrace.sso.sso_audit_report('html', now(utc=true).isoformat()) }}"
    dest: audit.html
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The report.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.smarttrace.sso.plugins.module_utils._audit.report import render


def sso_audit_report(rows, format="markdown", generated=""):  # pylint: disable=redefined-builtin
    if not isinstance(rows, list):
        raise AnsibleFilterError("sso_audit_report: the input must be the list of rows made by sso_audit_findings")
    try:
        return render([dict(row) for row in rows], format, str(generated))
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("sso_audit_report: %s" % exc)


class FilterModule:
    """smarttrace.sso audit filters."""

    def filters(self):
        return {"sso_audit_report": sso_audit_report}
