#!/usr/bin/env bash
# Usage: check_audit_html.sh [AUDIT_HTML]
# Opens the audit's HTML report in a headless Chromium and checks that the browser builds its table: one row per
# instance, each with its state's class, and nothing fetched from elsewhere. Without AUDIT_HTML, renders a report of
# three instances (healthy, drifted, broken) with the collection's own renderer (plugins/module_utils/_audit/report.py).
# Without chromium on PATH it says SKIPPED (CI installs chromium from Debian's packages; make test never installs
# system packages). A screenshot is left next to the report for a person to look at.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "check_audit_html: SKIPPED: chromium is not on PATH (CI installs it: apt-get install chromium)"
  exit 0
fi
work=$(mktemp -d -t audit-html.XXXXXX)
trap 'rm -rf "$work/profile"' EXIT
html=${1:-}
expected=""
if [ -z "$html" ]; then
  html=$work/audit.html
  # the collection's import path: a folder ansible_collections/smarttrace/sso -> this repository
  mkdir -p "$work/collections/ansible_collections/smarttrace"
  ln -s "$repo" "$work/collections/ansible_collections/smarttrace/sso"
  PYTHONPATH=$work/collections "$python" "$repo/tests/release/audit_html_sample.py" "$html"
  expected="acme:ok globex:warning initech:critical"
fi
dom=$work/dom.html
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$work/profile" \
  --dump-dom "file://$html" > "$dom" 2> "$work/chromium.err" || { cat "$work/chromium.err" >&2; echo "check_audit_html: chromium failed" >&2; exit 1; }
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$work/profile" \
  --window-size=1400,900 --screenshot="${html%.html}.png" "file://$html" > /dev/null 2>&1 || true
"$python" - "$dom" "$expected" <<'PY'
import re
import sys
from html.parser import HTMLParser

class Table(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.in_table, self.external = [], False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "audit":
            self.in_table = True
        if tag == "tr" and self.in_table and "data-instance" in attrs:
            self.rows.append("%s:%s" % (attrs["data-instance"], attrs.get("class")))
        if tag in ("script", "link", "img", "iframe") or any(re.match("^(https?:)?//", value or "") for value in attrs.values()):
            self.external.append(tag)

dom = open(sys.argv[1], encoding="utf-8").read()
table = Table()
table.feed(dom)
problems = []
if not table.rows:
    problems.append("no instance row in the rendered table#audit")
if any(row.split(":")[1] not in ("ok", "warning", "critical") for row in table.rows):
    problems.append("a row without a state class: %s" % table.rows)
if sys.argv[2] and table.rows != sys.argv[2].split():
    problems.append("rows %s, expected %s" % (table.rows, sys.argv[2].split()))
if table.external:
    problems.append("external or active content: %s" % table.external)
if problems:
    print("check_audit_html: FAILED: " + "; ".join(problems))
    sys.exit(1)
print("check_audit_html: chromium rendered the table with %d rows: %s" % (len(table.rows), " ".join(table.rows)))
PY
echo "check_audit_html: screenshot ${html%.html}.png"
