"""Checks of the Galaxy artifact and of a demo run from its installed copy (used by test_artifact.sh).

  check_artifact.py tarball TARBALL GALAXY_YML [ENDPOINT_JSON]
      the tarball holds what a user needs and no tests output, sandbox state, caches or secrets
      (known sandbox secrets too, when ENDPOINT_JSON is given)
  check_artifact.py recap LOG
      prints "ok changed failed" summed over the PLAY RECAP of an ansible-playbook log
  check_artifact.py leaks ENDPOINT_JSON LOG...
      no secret of the sandbox and nothing shaped like an Entra client secret or a JWT in the logs
  check_artifact.py state ENDPOINT_JSON INSTANCE UPN GROUP
      the sandbox's state after the demo: SmartTrace holds the app's ids and a secret of that app,
      the app has the instance's redirect and logout URIs, the user exists and user and group are assigned

Each check prints one "ok: ..." line per assertion and exits 1 with "FAIL: ..." on the first failure.
"""
import base64
import binascii
import json
import os
import re
import ssl
import sys
import tarfile
import urllib.request

import yaml

# Members that must never ship: tests output, sandbox state, caches, local configuration, key material.
FORBIDDEN_MEMBERS = (
    (re.compile(r"(^|/)tests/output(/|$)"), "ansible-test output"),
    (re.compile(r"^tests/sandbox(/|$)"), "the sandbox (a test tool, not part of the collection)"),
    (re.compile(r"(^|/)\.sandbox(/|$)|(^|/)(endpoint\.json|requests\.jsonl|sandbox\.(out|err))$"), "sandbox state"),
    (re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.tox|\.cache|\.ansible)(/|$)|\.py[co]$"), "a cache"),
    (re.compile(r"(^|/)(\.venv[^/]*|\.build|\.git|\.ci)(/|$)"), "a local environment or repository data"),
    (re.compile(r"^tests/integration/(integration_config\.yml|inventory|cloud-config-[^/]*)$"), "local test configuration (credentials)"),
    (re.compile(r"\.(pem|key|pfx|p12|crt|cer|jks|kdbx)$"), "key material"),
    (re.compile(r"\.(tar\.gz|zip|whl|log)$|^changelogs/\.plugin-cache\.yaml$"), "a build or run leftover"),
)
# Text that looks like a credential, wherever it appears.
SECRET_SHAPES = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.(eyJ[A-Za-z0-9_-]{10,})\.[A-Za-z0-9_-]*"), "a JSON Web Token"),
    (re.compile(r"(?<![A-Za-z0-9~._-])[A-Za-z0-9]{3}[0-9]Q~[A-Za-z0-9~._-]{31,37}(?![A-Za-z0-9~._-])"), "an Entra client secret"),
)
# endpoint.json fields holding secrets of the sandbox.
ENDPOINT_SECRETS = ("client_secret", "limited_client_secret", "smarttrace_token", "smarttrace_viewer_token", "smarttrace_password",
                    "client_certificate_password")
REQUIRED_MEMBERS = ("MANIFEST.json", "FILES.json", "README.md", "requirements.txt", "bindep.txt", "meta/runtime.yml",
                    "meta/execution-environment.yml", "playbooks/configure.yml", "playbooks/demo_vars.yml",
                    "roles/entra_sso/meta/argument_specs.yml", "roles/entra_sso/tasks/main.yml",
                    "plugins/doc_fragments/entra.py", "tests/integration/integration_config.yml.sample")


def fail(message):
    print("FAIL: %s" % message)
    sys.exit(1)


def ok(message):
    print("ok: %s" % message)


def sandbox_secrets(endpoint_path):
    with open(endpoint_path, encoding="utf-8") as handle:
        endpoint = json.load(handle)
    return dict((key, str(endpoint[key])) for key in ENDPOINT_SECRETS if endpoint.get(key))


def issued_token(payload):
    """True for the claims of a token an identity provider issued (issuer and expiry), not a unit test's made-up one."""
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return True
    return not isinstance(claims, dict) or ("iss" in claims and "exp" in claims)


def scan_text(name, text, known):
    for pattern, what in SECRET_SHAPES:
        for match in pattern.finditer(text):
            if pattern.groups and not issued_token(match.group(1)):
                continue
            fail("%s holds %s (at offset %d)" % (name, what, match.start()))
    for key, value in known.items():
        if value in text:
            fail("%s holds the sandbox's %s" % (name, key))


def check_tarball(tarball, galaxy_yml, endpoint_path=None):
    known = sandbox_secrets(endpoint_path) if endpoint_path else {}
    with open(galaxy_yml, encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    with tarfile.open(tarball, "r:gz") as archive:
        members = archive.getmembers()
        names = [member.name[2:] if member.name.startswith("./") else member.name for member in members]
        for name in names:
            for pattern, what in FORBIDDEN_MEMBERS:
                if pattern.search(name):
                    fail("%s is in the artifact: %s" % (name, what))
        ok("none of %d members is tests output, sandbox state, a cache, local configuration or key material" % len(names))
        for member in members:
            if member.issym() or member.islnk():
                fail("%s is a link" % member.name)
        missing = [name for name in REQUIRED_MEMBERS if name not in names]
        if missing:
            fail("the artifact lacks %s" % ", ".join(missing))
        ok("the artifact holds %s" % ", ".join(REQUIRED_MEMBERS))
        runtime = yaml.safe_load(archive.extractfile("meta/runtime.yml"))
        modules = sorted(set(name for group in (runtime.get("action_groups") or {}).values() for name in group if isinstance(name, str)))
        absent = [name for name in modules if "plugins/modules/%s.py" % name not in names]
        if absent:
            fail("modules of the action groups missing from the artifact: %s" % ", ".join(absent))
        ok("every module of the action groups is in the artifact (%s)" % ", ".join(modules))
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        info = manifest["collection_info"]
        if (info["namespace"], info["name"], info["version"]) != (galaxy["namespace"], galaxy["name"], galaxy["version"]):
            fail("MANIFEST.json says %(namespace)s.%(name)s %(version)s" % info)
        ok("MANIFEST.json: %(namespace)s.%(name)s %(version)s" % info)
        scanned = 0
        for member, name in zip(members, names):
            if not member.isfile():
                continue
            data = archive.extractfile(member).read()
            scan_text(name, data.decode("utf-8", "replace"), known)
            scanned += 1
        ok("no private key, token, client secret%s in the %d files" % (" or sandbox secret" if known else "", scanned))


def recap(log_path):
    totals = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0}
    seen = False
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if " : ok=" not in line:
                continue
            seen = True
            for key in totals:
                match = re.search(r"\b%s=(\d+)" % key, line)
                if match:
                    totals[key] += int(match.group(1))
    if not seen:
        fail("no PLAY RECAP in %s" % log_path)
    print("%(ok)d %(changed)d %(failed)d %(unreachable)d" % totals)


def leaks(endpoint_path, logs):
    known = sandbox_secrets(endpoint_path)
    for log_path in logs:
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            scan_text(log_path, handle.read(), known)
    ok("no sandbox secret, client secret or token in the %d outputs (%s)" % (len(logs), ", ".join(os.path.basename(log) for log in logs)))


def sandbox_state(endpoint_path):
    with open(endpoint_path, encoding="utf-8") as handle:
        endpoint = json.load(handle)
    context = ssl.create_default_context(cafile=endpoint["ca"])
    with urllib.request.urlopen(endpoint["url"] + "/_sandbox/state", context=context, timeout=30) as response:
        return json.load(response)


def check_state(endpoint_path, instance, upn, group):
    state = sandbox_state(endpoint_path)
    directory = state["directory"]
    integration = state["smarttrace"]["instances"].get(instance)
    if not integration or not integration.get("application_id") or not integration.get("client_secret_set"):
        fail("SmartTrace instance %s is not configured: %s" % (instance, integration))
    if integration["tenant_id"] != directory["tenant_id"]:
        fail("SmartTrace holds tenant %s, the tenant is %s" % (integration["tenant_id"], directory["tenant_id"]))
    apps = [app for app in directory["applications"] if app["appId"] == integration["application_id"]]
    if len(apps) != 1:
        fail("SmartTrace holds application id %s, which matches %d apps" % (integration["application_id"], len(apps)))
    app = apps[0]
    ok("SmartTrace instance %s holds app %r (%s) of tenant %s" % (instance, app["displayName"], app["appId"], directory["tenant_id"]))
    key_ids = [credential["keyId"] for credential in app["passwordCredentials"]]
    if integration.get("client_secret_id") and integration["client_secret_id"] not in key_ids:
        fail("SmartTrace holds secret %s, which is not a secret of the app (%s)" % (integration["client_secret_id"], key_ids))
    ok("the secret SmartTrace holds is one of the app's %d secret(s)" % len(key_ids))
    web = app.get("web") or {}
    if integration["redirect_uri"] not in (web.get("redirectUris") or []) or web.get("logoutUrl") != integration["logout_uri"]:
        fail("the app's web settings %s do not match SmartTrace's %s and %s" % (web, integration["redirect_uri"], integration["logout_uri"]))
    ok("the app has SmartTrace's redirect URI and front-channel logout URL")
    sps = [sp for sp in directory["servicePrincipals"] if sp["appId"] == app["appId"]]
    if len(sps) != 1:
        fail("the app has %d service principals" % len(sps))
    users = [user for user in directory["users"] if user["userPrincipalName"].lower() == upn.lower()]
    groups = [item for item in directory["groups"] if item["displayName"] == group]
    if len(users) != 1 or len(groups) != 1:
        fail("user %s or group %s not found exactly once" % (upn, group))
    assigned = set(assignment["principalId"] for assignment in directory["appRoleAssignments"] if assignment["resourceId"] == sps[0]["id"])
    if users[0]["id"] not in assigned or groups[0]["id"] not in assigned:
        fail("%s and %s are not both assigned to the enterprise app" % (upn, group))
    ok("%s exists; %s and group %r are assigned to the enterprise app" % (upn, upn, group))
    names = [a["displayName"] for a in directory["applications"]]
    if len(names) != len(set(names)):
        fail("duplicate app display names: %s" % names)
    ok("no duplicate apps (%d apps)" % len(names))


def main(argv):
    if len(argv) < 3:
        fail(__doc__)
    command, args = argv[1], argv[2:]
    if command == "tarball":
        check_tarball(*args)
    elif command == "recap":
        recap(*args)
    elif command == "leaks":
        leaks(args[0], args[1:])
    elif command == "state":
        check_state(*args)
    else:
        fail("unknown command %s" % command)


if __name__ == "__main__":
    main(sys.argv)
