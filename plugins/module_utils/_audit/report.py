# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's reports from the rows of ``_audit.instance_findings``: Markdown, self-contained HTML (one table, one row per
instance, a colour per state, no external assets, no script) and JSON. Secret metadata only (key id, hint, end date)."""

import json
from html import escape

from ansible_collections.smarttrace.sso.plugins.module_utils._audit.findings import summary

COLOURS = {"ok": "#1e7b34", "warning": "#9a6700", "critical": "#b42318"}
BACKGROUNDS = {"ok": "#e6f4ea", "warning": "#fff4ce", "critical": "#fde7e9"}
TITLE = "SmartTrace single sign-on audit"


def _secret_text(secret):
    days = "expired" if secret["expired"] else ("%s days left" % secret["days_left"])
    marks = [mark for flag, mark in ((secret["held_by_smarttrace"], "held by SmartTrace"), (secret["newest"], "newest")) if flag]
    return "%s (hint %s, %s, ends %s%s)" % (secret["key_id"], secret["hint"] or "-", days, secret["end"] or "-",
                                            "; " + ", ".join(marks) if marks else "")


def _people(items, key="display_name"):
    return ", ".join("%s (%s)" % (item.get(key) or item.get("id") or "-", item.get("principal_type") or item.get("type") or "-") for item in items) or "none"


def _facts(row):
    app = row.get("app") or {}
    return [
        ("App", "%s (app_id %s)" % (app.get("display_name"), app.get("app_id")) if app else "missing"),
        ("Redirect URIs", ", ".join(app.get("redirect_uris") or []) or "none"),
        ("Logout URL", app.get("logout_url") or "not set"),
        ("ID tokens", {True: "on", False: "off"}.get(app.get("id_token_issuance"), "-")),
        ("Assignment required", {True: "yes", False: "no"}.get(app.get("app_role_assignment_required"), "-")),
        ("Assigned", _people(row.get("assigned") or [])),
        ("Owners", _people(row.get("owners") or [])),
        ("Client secrets", "; ".join(_secret_text(secret) for secret in row.get("secrets") or []) or "none"),
        ("SmartTrace test", row.get("test")),
    ]


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(rows, generated):
    total = summary(rows)
    lines = ["# %s" % TITLE, "", "Generated %s. %d instances: %d ok, %d warning, %d critical." % (
        generated, total["instances"], total["counts"]["ok"], total["counts"]["warning"], total["counts"]["critical"]), "",
        "| Instance | State | Findings | Secret days left | SmartTrace test | Assigned |", "|---|---|---|---|---|---|"]
    for row in rows:
        days = ", ".join("%s%s" % (secret["days_left"], "*" if secret["held_by_smarttrace"] else "") for secret in row["secrets"]) or "-"
        lines.append("| %s | %s | %d | %s | %s | %d |" % (_cell(row["instance"]), row["state"].upper(), len(row["findings"]), days, row["test"],
                                                          len(row["assigned"])))
    lines += ["", "(* the secret SmartTrace holds)", ""]
    for row in rows:
        lines += ["## %s: %s" % (row["instance"], row["state"].upper()), ""]
        lines += ["- **%s**: %s" % (severity_check["severity"].upper(), _cell(severity_check["check"] + ": " + severity_check["message"]))
                  for severity_check in row["findings"]] or ["- no findings"]
        lines += [""] + ["- %s: %s" % (name, _cell(value)) for name, value in _facts(row)] + [""]
    return "\n".join(lines)


STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#1f2328}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}.state{font-weight:bold;color:#fff;text-align:center}
""" + "".join("tr.%s td{background:%s}tr.%s td.state{background:%s}\n" % (name, BACKGROUNDS[name], name, COLOURS[name]) for name in COLOURS) + \
    "details{margin:.2em 0}ul{margin:.2em 0;padding-left:1.2em}"


def render_html(rows, generated):
    total = summary(rows)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"><title>%s</title><style>%s</style></head><body>' % (TITLE, STYLE),
           "<h1>%s</h1>" % TITLE,
           '<p id="summary">Generated %s. %d instances: <b>%d ok</b>, <b>%d warning</b>, <b>%d critical</b>.</p>' % (
               escape(generated), total["instances"], total["counts"]["ok"], total["counts"]["warning"], total["counts"]["critical"]),
           '<table id="audit"><thead><tr><th>Instance</th><th>State</th><th>Findings</th><th>Client secrets</th><th>SmartTrace test</th>'
           "<th>Assigned</th><th>Owners</th></tr></thead><tbody>"]
    for row in rows:
        findings = "".join("<li><b>%s</b> %s: %s</li>" % (item["severity"].upper(), escape(item["check"]), escape(item["message"]))
                           for item in row["findings"]) or "<li>none</li>"
        facts = "".join("<li>%s: %s</li>" % (escape(name), escape(str(value))) for name, value in _facts(row))
        secrets = "<br>".join(escape("%s days%s" % ("expired" if secret["expired"] else secret["days_left"],
                                                    " (SmartTrace)" if secret["held_by_smarttrace"] else "")) for secret in row["secrets"]) or "none"
        out.append('<tr class="%s" data-instance="%s" data-state="%s"><td>%s</td><td class="state">%s</td>'
                   "<td><ul>%s</ul><details><summary>details</summary><ul>%s</ul></details></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                       row["state"], escape(row["instance"], quote=True), row["state"], escape(row["instance"]), row["state"].upper(), findings, facts,
                       secrets, escape(row["test"]), escape(_people(row["assigned"])), escape(_people(row["owners"]))))
    out.append("</tbody></table></body></html>")
    return "\n".join(out) + "\n"


def render_json(rows, generated):
    return json.dumps({"generated": generated, "summary": summary(rows), "instances": rows}, indent=2, sort_keys=True) + "\n"


RENDERERS = {"markdown": render_markdown, "html": render_html, "json": render_json}


def render(rows, output_format, generated):
    if output_format not in RENDERERS:
        raise ValueError("format must be one of %s, not %r" % (", ".join(sorted(RENDERERS)), output_format))
    return RENDERERS[output_format](sorted(rows, key=lambda row: row["instance"]), generated)
