"""Write a sample audit HTML report (healthy, drifted, broken instance) for tests/release/check_audit_html.sh."""
import sys

from ansible_collections.smarttrace.sso.plugins.module_utils._audit.findings import instance_findings
from ansible_collections.smarttrace.sso.plugins.module_utils._audit.report import render

APP_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
HELD = "aa11bb22-cc33-4d44-8e55-ff6677889900"


def entra(instance, key_id=HELD, **app):
    redirect = "https://api.smarttrace.ai/v1/auth/callback/azure/" + instance
    view = {"display_name": "SmartTrace", "app_id": APP_ID, "redirect_uris": [redirect], "id_token_issuance": False,
            "logout_url": "https://api.smarttrace.ai/v1/auth/callback/azure-logout/" + instance, "app_role_assignment_required": True,
            "credentials": {"secrets": [{"key_id": key_id, "display_name": "SmartTrace SSO", "hint": "Qx7", "start": "2026-06-01T00:00:00Z",
                                         "end": "2027-05-01T00:00:00Z", "days_left": 150, "expired": False}]}}
    view.update(app)
    return {"found": True, "app": view, "owners": [], "assigned": [{"principal_type": "Group", "display_name": "SmartTrace Users"}]}


def smarttrace(instance, ok=True):
    return {"integration": {"enabled": True, "application_id": APP_ID, "client_secret_set": True, "client_secret_id": HELD,
                            "redirect_uri": "https://api.smarttrace.ai/v1/auth/callback/azure/" + instance,
                            "logout_uri": "https://api.smarttrace.ai/v1/auth/callback/azure-logout/" + instance},
            "verification": {"ok": ok, "error": None if ok else "AADSTS7000215: Invalid client secret provided."}}


def main(path):
    rows = [instance_findings("acme", entra("acme"), smarttrace("acme")),
            instance_findings("globex", entra("globex", id_token_issuance=True), smarttrace("globex")),
            instance_findings("initech", entra("initech", key_id="0a11bb22-cc33-4d44-8e55-ff6677889900"), smarttrace("initech", ok=False))]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render(rows, "html", "sample"))


if __name__ == "__main__":
    main(sys.argv[1])
